"""CPython side of the tokenizer round-trip checks.

Reads one JSON request per line on stdin and writes one JSON reply per line:
  {"op": "tree", "src": S}                     -> {"ok": true, "tree": T}
  {"op": "parses", "src": S}                   -> {"ok": true, "parses": b}
  {"op": "roundtrip", "src": S, "decoded": D,
   "renames": {old: new}, "emptyDocstrings": b} -> {"ok": true, "equal": b, "expected": E, "actual": A}
Trees are plain JSON (node class in "_type", fields in _fields order, constants
tagged with their Python type), so the TypeScript side compares them exactly.
"tree" requires Python 3.11, whose ast node shapes the TypeScript converter
follows; the round-trip ops compare CPython with itself and run on 3.9 or later.
"""
import ast
import json
import sys

if sys.version_info[:2] < (3, 9):
    sys.stderr.write(f"python_ast_oracle.py needs Python 3.9 or later, found {sys.version.split()[0]}\n")
    sys.exit(3)

# Identifier-valued fields, the ones the tokenizer renames.
IDENTIFIER_FIELDS = {
    ("Name", "id"), ("FunctionDef", "name"), ("ClassDef", "name"), ("arg", "arg"),
    ("Attribute", "attr"), ("alias", "name"), ("alias", "asname"), ("ImportFrom", "module"),
    ("keyword", "arg"), ("ExceptHandler", "name"), ("AsyncFunctionDef", "name"),
    ("MatchAs", "name"), ("MatchStar", "name"), ("MatchMapping", "rest"),
}
# Nodes whose `value` is a constant; MatchSingleton only exists from Python 3.10.
CONSTANT_VALUE_CLASSES = (ast.Constant, getattr(ast, "MatchSingleton", ast.Constant))
# Identifier-list fields, renamed item by item.
IDENTIFIER_LIST_FIELDS = {("Global", "names"), ("Nonlocal", "names"), ("MatchClass", "kwd_attrs")}


def constant_json(value):
    if value is None:
        return {"py": "None"}
    if value is Ellipsis:
        return {"py": "Ellipsis"}
    if isinstance(value, bool):
        return {"py": "bool", "value": value}
    if isinstance(value, int):
        return {"py": "int", "value": str(value)}
    if isinstance(value, float):
        return {"py": "float", "value": repr(value)}
    if isinstance(value, complex):
        return {"py": "complex", "value": repr(value.imag)}
    if isinstance(value, str):
        return {"py": "str", "value": value}
    if isinstance(value, bytes):
        return {"py": "bytes", "value": list(value)}
    raise TypeError(f"unexpected constant type {type(value).__name__}")


def tree_json(node):
    if isinstance(node, ast.AST):
        out = {"_type": type(node).__name__}
        for field in node._fields:
            value = getattr(node, field, None)
            # MatchSingleton.value is the constant itself, so it is tagged like Constant.value.
            if isinstance(node, CONSTANT_VALUE_CLASSES) and field == "value":
                out[field] = constant_json(value)
            else:
                out[field] = tree_json(value)
        return out
    if isinstance(node, list):
        return [tree_json(item) for item in node]
    return node


def normalize(tree, renames, empty_docstrings):
    """Apply the tokenizer's content normalizations to a CPython tree."""
    for node in ast.walk(tree):
        for cls, field in IDENTIFIER_FIELDS:
            if type(node).__name__ == cls:
                value = getattr(node, field, None)
                if isinstance(value, str) and value in renames:
                    setattr(node, field, renames[value])
        for cls, field in IDENTIFIER_LIST_FIELDS:
            if type(node).__name__ == cls:
                setattr(node, field, [renames.get(name, name) for name in getattr(node, field)])
        if empty_docstrings and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            node.value.value = ""
    return tree


def handle(request):
    op = request["op"]
    if op == "tree":
        if sys.version_info[:2] != (3, 11):
            raise RuntimeError(f"trees are compared in Python 3.11 shapes; this is Python {sys.version.split()[0]}")
        return {"ok": True, "tree": tree_json(ast.parse(request["src"]))}
    if op == "roundtrip":
        expected = ast.dump(normalize(ast.parse(request["src"]), request.get("renames", {}),
                                      request.get("emptyDocstrings", False)))
        try:
            actual = ast.dump(ast.parse(request["decoded"]))
        except SyntaxError as error:
            return {"ok": True, "equal": False, "expected": expected, "actual": f"SyntaxError: {error}"}
        return {"ok": True, "equal": expected == actual, "expected": expected, "actual": actual}
    if op == "parses":
        try:
            ast.parse(request["src"])
            return {"ok": True, "parses": True}
        except (SyntaxError, ValueError):
            return {"ok": True, "parses": False}
    if op == "version":
        return {"ok": True, "version": sys.version.split()[0]}
    raise ValueError(f"unknown op {op!r}")


def main():
    for line in sys.stdin:
        try:
            reply = handle(json.loads(line))
        except Exception as error:  # every failure is reported back, the process keeps serving
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
