/**
 * Fixed in-prompt demonstrations of the few-shot tasks. The counts and shapes
 * follow the paper's evaluation (3 arithmetic shots, 9 NLI shots, 3 shots
 * elsewhere); the texts themselves were written for sculpt.
 */

export interface ArithmeticDemo {
  question: string;
  rationale: string;
  answer: string;
}

export const ARITHMETIC_DEMOS: ArithmeticDemo[] = [
  {
    question: 'A baker fills 4 trays with 6 rolls each and then sells 9 rolls. How many rolls are left?',
    rationale: 'The trays hold 4*6=<<4*6=24>>24 rolls. After selling 9 there are 24-9=<<24-9=15>>15 rolls.',
    answer: '15',
  },
  {
    question: 'Nina reads 12 pages on Monday and twice as many on Tuesday. How many pages does she read in the two days?',
    rationale: 'On Tuesday she reads 12*2=<<12*2=24>>24 pages. Together that is 12+24=<<12+24=36>>36 pages.',
    answer: '36',
  },
  {
    question: 'A box of 30 pencils is shared equally among 5 students. Each student then loses 2 pencils. How many pencils does each student have?',
    rationale: 'Each student gets 30/5=<<30/5=6>>6 pencils. After losing 2, each has 6-2=<<6-2=4>>4 pencils.',
    answer: '4',
  },
];

export type NliLabel = 'entailment' | 'neutral' | 'contradiction';

export interface NliDemo {
  premise: string;
  hypothesis: string;
  label: NliLabel;
  explanation: string;
}

export const NLI_DEMOS: NliDemo[] = [
  { premise: 'A man in a red coat is shoveling snow off a driveway.', hypothesis: 'A person is clearing snow.', label: 'entailment', explanation: 'Shoveling snow off a driveway is clearing snow.' },
  { premise: 'Two children are playing chess in a park.', hypothesis: 'The children are brothers.', label: 'neutral', explanation: 'Nothing says how the children are related.' },
  { premise: 'A woman is swimming laps in an indoor pool.', hypothesis: 'The woman is riding a bicycle on a mountain road.', label: 'contradiction', explanation: 'She cannot swim in a pool and ride on a mountain road at once.' },
  { premise: 'The museum opened a new wing devoted to ancient coins in 2015.', hypothesis: 'The museum displays ancient coins.', label: 'entailment', explanation: 'A wing devoted to ancient coins displays them.' },
  { premise: 'A dog is running across a beach with a stick in its mouth.', hypothesis: 'The dog is sleeping on a couch.', label: 'contradiction', explanation: 'A running dog on a beach is not asleep on a couch.' },
  { premise: 'A chef is slicing onions in a busy kitchen.', hypothesis: 'The chef is preparing a soup.', label: 'neutral', explanation: 'The onions could be for any dish.' },
  { premise: 'The river froze solid during the coldest week of the winter.', hypothesis: 'The river was covered in ice.', label: 'entailment', explanation: 'A frozen river is covered in ice.' },
  { premise: 'A band is playing music on a stage in front of a large crowd.', hypothesis: 'The concert is sold out.', label: 'neutral', explanation: 'A large crowd does not mean every ticket was sold.' },
  { premise: 'An old man is sitting alone on a bench feeding pigeons.', hypothesis: 'A group of teenagers is dancing at a party.', label: 'contradiction', explanation: 'An old man alone on a bench is not a group of dancing teenagers.' },
];

export interface ChoiceDemo {
  question: string;
  choices: string[];
  answer: string;
}

export const COMMONSENSE_DEMOS: ChoiceDemo[] = [
  { question: 'Where would you keep milk so that it stays cold?', choices: ['cupboard', 'refrigerator', 'oven', 'garden', 'mailbox'], answer: 'B' },
  { question: 'What do people usually do when they are tired at night?', choices: ['sleep', 'run a race', 'paint a fence', 'go swimming', 'bake bread'], answer: 'A' },
  { question: 'What would you use to cut a sheet of paper?', choices: ['spoon', 'pillow', 'hammer', 'towel', 'scissors'], answer: 'E' },
];

export const RACE_DEMO_ARTICLE =
  'Tom found an injured bird in his garden one spring morning. He put it in a small box with soft grass and gave it water. ' +
  'For two weeks he fed it seeds and kept it warm. When its wing had healed, Tom carried the box outside and opened it. ' +
  'The bird flew to the old apple tree, sang for a moment, and then flew away over the fields.';

export const RACE_DEMOS: ChoiceDemo[] = [
  { question: 'Where did Tom find the bird?', choices: ['In a shop', 'In his garden', 'At school', 'In a forest'], answer: 'B' },
  { question: 'How long did Tom look after the bird?', choices: ['Two days', 'One month', 'Two weeks', 'One year'], answer: 'C' },
  { question: 'What did the bird do when it was free?', choices: ['It flew away', 'It stayed in the box', 'It bit Tom', 'It fell asleep'], answer: 'A' },
];

export interface WinograndeDemo {
  sentence: string;
  option1: string;
  option2: string;
  answer: '1' | '2';
}

export const WINOGRANDE_DEMOS: WinograndeDemo[] = [
  { sentence: 'The trophy did not fit in the bag because the _ was too large.', option1: 'trophy', option2: 'bag', answer: '1' },
  { sentence: 'Maria lent her umbrella to Anna because _ was going out into the rain.', option1: 'Maria', option2: 'Anna', answer: '2' },
  { sentence: 'The soup was colder than the tea, so the _ needed more time on the stove.', option1: 'soup', option2: 'tea', answer: '1' },
];
