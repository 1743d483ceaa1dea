/** Registers every webgpu kernel (imported for its side effects by the package index). */
import './matmul.js';
import './elementwise.js';
import './reduce.js';
import './statistics.js';
import './linalg.js';
