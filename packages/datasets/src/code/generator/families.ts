/**
 * Families of small stdin programming problems with reference solutions.
 * Each family draws its own constants (a threshold, a modulus, a word), so
 * one family yields many distinct problems. Expected outputs are computed
 * here in TypeScript; a test runs every reference solution in the sandbox to
 * check that Python prints the same.
 */
import type { Random } from '@sculpt/core';

export interface ProblemInstance {
  description: string;
  /** Two or more Python reference solutions written differently, so a model is trained on more than one way. */
  solutions: string[];
  makeInput(rng: Random): string;
  solve(input: string): string;
}

export interface ProblemFamily {
  name: string;
  instantiate(rng: Random): ProblemInstance;
}

function numbers(rng: Random, count: number, min: number, max: number): number[] {
  return Array.from({ length: count }, () => rng.int(min, max));
}

/** Input of the form "n\na1 a2 ... an\n". */
function listInput(rng: Random, maxLength: number, min: number, max: number): string {
  const values = numbers(rng, rng.int(1, maxLength), min, max);
  return `${values.length}\n${values.join(' ')}\n`;
}

function parseList(input: string): number[] {
  const [, line = ''] = input.split('\n');
  return line.trim() === '' ? [] : line.trim().split(/\s+/u).map(Number);
}

function word(rng: Random, minLength: number, maxLength: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: rng.int(minLength, maxLength) }, () => letters[rng.int(0, 25)]).join('');
}

const READ_LIST = 'n = int(input())\na = list(map(int, input().split()))';

function leastCommonMultiple(a: number, b: number): number {
  let [x, y] = [a, b];
  while (y !== 0) [x, y] = [y, x % y];
  return (a / x) * b;
}

/** Python's floor modulo, which differs from JavaScript's % for negative operands. */
function pythonMod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

export const FAMILIES: ProblemFamily[] = [
  {
    name: 'sum-of-two',
    instantiate(rng) {
      const factor = rng.int(1, 5);
      return {
        description: `You are given two integers a and b on one line. Print ${factor === 1 ? 'a + b' : `${factor} * (a + b)`}.`,
        solutions: [
          `a, b = map(int, input().split())\nprint(${factor} * (a + b))\n`,
          `values = [int(x) for x in input().split()]\ntotal = values[0] + values[1]\nprint(total * ${factor})\n`,
        ],
        makeInput: (r) => `${r.int(-1000, 1000)} ${r.int(-1000, 1000)}\n`,
        solve: (input) => {
          const [a, b] = input.trim().split(/\s+/u).map(Number);
          return `${factor * (a + b)}\n`;
        },
      };
    },
  },
  {
    name: 'sum-of-list',
    instantiate(rng) {
      const modulus = rng.int(7, 1000);
      return {
        description: `The first line contains n. The second line contains n integers. Print their sum modulo ${modulus}.`,
        solutions: [
          `${READ_LIST}\nprint(sum(a) % ${modulus})\n`,
          `${READ_LIST}\ntotal = 0\nfor x in a:\n    total += x\nprint(total % ${modulus})\n`,
        ],
        makeInput: (r) => listInput(r, 12, -100, 100),
        solve: (input) => `${pythonMod(parseList(input).reduce((sum, x) => sum + x, 0), modulus)}\n`,
      };
    },
  },
  {
    name: 'max-of-list',
    instantiate(rng) {
      const offset = rng.int(0, 9);
      return {
        description: `Read n and then n integers. Print the largest of them plus ${offset}.`,
        solutions: [
          `${READ_LIST}\nprint(max(a) + ${offset})\n`,
          `${READ_LIST}\nbest = a[0]\nfor x in a:\n    if x > best:\n        best = x\nprint(best + ${offset})\n`,
        ],
        makeInput: (r) => listInput(r, 10, -50, 50),
        solve: (input) => `${Math.max(...parseList(input)) + offset}\n`,
      };
    },
  },
  {
    name: 'min-of-list',
    instantiate(rng) {
      const offset = rng.int(0, 9);
      return {
        description: `Read n and then n integers. Print the smallest of them minus ${offset}.`,
        solutions: [
          `${READ_LIST}\nprint(min(a) - ${offset})\n`,
          `${READ_LIST}\nsmallest = a[0]\nfor x in a[1:]:\n    smallest = min(smallest, x)\nprint(smallest - ${offset})\n`,
        ],
        makeInput: (r) => listInput(r, 10, -50, 50),
        solve: (input) => `${Math.min(...parseList(input)) - offset}\n`,
      };
    },
  },
  {
    name: 'count-greater',
    instantiate(rng) {
      const threshold = rng.int(-10, 10);
      return {
        description: `Given n integers, print how many of them are greater than ${threshold}.`,
        solutions: [
          `${READ_LIST}\nprint(sum(1 for x in a if x > ${threshold}))\n`,
          `${READ_LIST}\ncount = 0\nfor x in a:\n    if x > ${threshold}:\n        count += 1\nprint(count)\n`,
        ],
        makeInput: (r) => listInput(r, 12, -20, 20),
        solve: (input) => `${parseList(input).filter((x) => x > threshold).length}\n`,
      };
    },
  },
  {
    name: 'count-divisible',
    instantiate(rng) {
      const divisor = rng.int(2, 9);
      return {
        description: `Given n integers, print how many of them are divisible by ${divisor}.`,
        solutions: [
          `${READ_LIST}\nprint(len([x for x in a if x % ${divisor} == 0]))\n`,
          `${READ_LIST}\ncount = 0\nfor x in a:\n    if x % ${divisor} == 0:\n        count += 1\nprint(count)\n`,
        ],
        makeInput: (r) => listInput(r, 12, 0, 100),
        solve: (input) => `${parseList(input).filter((x) => x % divisor === 0).length}\n`,
      };
    },
  },
  {
    name: 'sorted-list',
    instantiate(rng) {
      const descending = rng.nextFloat() < 0.5;
      const order = descending ? 'non-increasing' : 'non-decreasing';
      return {
        description: `Read n and then n integers. Print them in ${order} order, separated by spaces.`,
        solutions: [
          `${READ_LIST}\nprint(' '.join(map(str, sorted(a${descending ? ', reverse=True' : ''}))))\n`,
          `${READ_LIST}\na.sort(${descending ? 'reverse=True' : ''})\nprint(*a)\n`,
        ],
        makeInput: (r) => listInput(r, 10, -30, 30),
        solve: (input) => {
          const values = parseList(input).sort((x, y) => (descending ? y - x : x - y));
          return `${values.join(' ')}\n`;
        },
      };
    },
  },
  {
    name: 'reverse-words',
    instantiate(rng) {
      const upper = rng.nextFloat() < 0.5;
      return {
        description: `A line contains words separated by single spaces. Print the words in reverse order${upper ? ', in upper case' : ''}.`,
        solutions: [
          `words = input().split()\nprint(' '.join(reversed(words))${upper ? '.upper()' : ''})\n`,
          `words = input().split()\nwords.reverse()\nline = ' '.join(words)\nprint(line${upper ? '.upper()' : ''})\n`,
        ],
        makeInput: (r) => `${Array.from({ length: r.int(1, 6) }, () => word(r, 1, 7)).join(' ')}\n`,
        solve: (input) => {
          const line = input.trim().split(/\s+/u).reverse().join(' ');
          return `${upper ? line.toUpperCase() : line}\n`;
        },
      };
    },
  },
  {
    name: 'count-letter',
    instantiate(rng) {
      const letter = 'aeiou'[rng.int(0, 4)];
      return {
        description: `Read a word of lowercase letters and print how many times the letter '${letter}' occurs in it.`,
        solutions: [`s = input().strip()\nprint(s.count('${letter}'))\n`, `s = input().strip()\nprint(sum(1 for c in s if c == '${letter}'))\n`],
        makeInput: (r) => `${word(r, 1, 20)}\n`,
        solve: (input) => `${[...input.trim()].filter((c) => c === letter).length}\n`,
      };
    },
  },
  {
    name: 'palindrome',
    instantiate(rng) {
      const [yes, no] = rng.nextFloat() < 0.5 ? ['YES', 'NO'] : ['Yes', 'No'];
      return {
        description: `Read a word. Print ${yes} if it reads the same backwards, otherwise print ${no}.`,
        solutions: [
          `s = input().strip()\nprint('${yes}' if s == s[::-1] else '${no}')\n`,
          `s = input().strip()\nif s == ''.join(reversed(s)):\n    print('${yes}')\nelse:\n    print('${no}')\n`,
        ],
        makeInput: (r) => {
          const half = word(r, 1, 5);
          const palindrome = r.nextFloat() < 0.5;
          return `${palindrome ? half + [...half].reverse().join('') : half + word(r, 1, 4)}\n`;
        },
        solve: (input) => {
          const s = input.trim();
          return `${s === [...s].reverse().join('') ? yes : no}\n`;
        },
      };
    },
  },
  {
    name: 'digit-sum',
    instantiate(rng) {
      const times = rng.int(1, 3);
      return {
        description: `Read a non-negative integer n and print ${times === 1 ? 'the sum of its digits' : `${times} times the sum of its digits`}.`,
        solutions: [
          `n = input().strip()\nprint(${times} * sum(int(d) for d in n))\n`,
          `n = int(input())\ntotal = 0\nwhile n > 0:\n    total += n % 10\n    n //= 10\nprint(total * ${times})\n`,
        ],
        makeInput: (r) => `${r.int(0, 1_000_000)}\n`,
        solve: (input) => `${times * [...input.trim()].reduce((sum, digit) => sum + Number(digit), 0)}\n`,
      };
    },
  },
  {
    name: 'fibonacci',
    instantiate(rng) {
      const modulus = rng.int(10, 1000);
      return {
        description: `F(0) = 0, F(1) = 1 and F(n) = F(n-1) + F(n-2). Read n and print F(n) modulo ${modulus}.`,
        solutions: [
          `n = int(input())\na, b = 0, 1\nfor _ in range(n):\n    a, b = b, (a + b) % ${modulus}\nprint(a % ${modulus})\n`,
          `n = int(input())\nf = [0, 1]\nfor i in range(2, n + 1):\n    f.append((f[-1] + f[-2]) % ${modulus})\nprint(f[n] % ${modulus})\n`,
        ],
        makeInput: (r) => `${r.int(0, 60)}\n`,
        solve: (input) => {
          let [a, b] = [0, 1];
          for (let i = 0; i < Number(input.trim()); i++) [a, b] = [b, (a + b) % modulus];
          return `${a % modulus}\n`;
        },
      };
    },
  },
  {
    name: 'range-sum',
    instantiate(rng) {
      const step = rng.int(1, 4);
      return {
        description: `Read an integer n. Print the sum of the numbers 0, ${step}, ${2 * step}, ... that are smaller than n.`,
        solutions: [`n = int(input())\nprint(sum(range(0, n, ${step})))\n`, `n = int(input())\ntotal = 0\ni = 0\nwhile i < n:\n    total += i\n    i += ${step}\nprint(total)\n`],
        makeInput: (r) => `${r.int(0, 200)}\n`,
        solve: (input) => {
          let total = 0;
          for (let i = 0; i < Number(input.trim()); i += step) total += i;
          return `${total}\n`;
        },
      };
    },
  },
  {
    name: 'fizzbuzz',
    instantiate(rng) {
      const [first, second] = [rng.int(2, 4), rng.int(5, 7)];
      const both = leastCommonMultiple(first, second);
      return {
        description: `Read n. For i from 1 to n print Fizz if i is divisible by ${first}, Buzz if by ${second}, FizzBuzz if by both, otherwise i; one per line.`,
        solutions: [
          `n = int(input())\nfor i in range(1, n + 1):\n    if i % ${both} == 0:\n        print('FizzBuzz')\n    elif i % ${first} == 0:\n        print('Fizz')\n    elif i % ${second} == 0:\n        print('Buzz')\n    else:\n        print(i)\n`,
          `n = int(input())\nfor i in range(1, n + 1):\n    s = ''\n    if i % ${first} == 0:\n        s += 'Fizz'\n    if i % ${second} == 0:\n        s += 'Buzz'\n    print(s or i)\n`,
        ],
        makeInput: (r) => `${r.int(1, 30)}\n`,
        solve: (input) => {
          const lines: string[] = [];
          for (let i = 1; i <= Number(input.trim()); i++) {
            const text = `${i % first === 0 ? 'Fizz' : ''}${i % second === 0 ? 'Buzz' : ''}`;
            lines.push(text === '' ? String(i) : text);
          }
          return `${lines.join('\n')}\n`;
        },
      };
    },
  },
  {
    name: 'pairwise-max',
    instantiate(rng) {
      const useMin = rng.nextFloat() < 0.5;
      const name = useMin ? 'min' : 'max';
      return {
        description: `The first line has n. Each of the next n lines has two integers. For each line print the ${useMin ? 'smaller' : 'larger'} one.`,
        solutions: [
          `n = int(input())\nfor _ in range(n):\n    x, y = map(int, input().split())\n    print(${name}(x, y))\n`,
          `n = int(input())\nfor _ in range(n):\n    x, y = map(int, input().split())\n    if x ${useMin ? '<' : '>'} y:\n        print(x)\n    else:\n        print(y)\n`,
        ],
        makeInput: (r) => {
          const count = r.int(1, 6);
          const rows = Array.from({ length: count }, () => `${r.int(-99, 99)} ${r.int(-99, 99)}`);
          return `${count}\n${rows.join('\n')}\n`;
        },
        solve: (input) => {
          const rows = input.trim().split('\n').slice(1);
          return `${rows.map((row) => { const [x, y] = row.split(' ').map(Number); return useMin ? Math.min(x, y) : Math.max(x, y); }).join('\n')}\n`;
        },
      };
    },
  },
];
