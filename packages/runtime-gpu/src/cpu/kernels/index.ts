/** Registers every cpu kernel (imported for its side effects by the package index). */
import './matmul.js';
import './elementwise.js';
import './layout.js';
import './statistics.js';
import './linalg.js';
