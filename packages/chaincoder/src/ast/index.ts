/** CPython-3.11-shaped Python syntax trees: parsing (tree-sitter), unparsing, literals and the CPython oracle. */
export * from './nodes.js';
export * from './literals.js';
export * from './parse.js';
export * from './unparse.js';
export * from './python-oracle.js';
