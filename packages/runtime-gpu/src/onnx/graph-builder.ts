/**
 * A small builder for in-memory ONNX graphs, used by the cpu device to run
 * matmul-class ops through onnxruntime-node. Inputs may have symbolic
 * dimensions, so one session serves every shape of one op variant.
 */
import { encodeModel, ONNX_IR_VERSION, OnnxDataType, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './schema.js';

/** A dimension: a fixed size or a symbolic name. */
export type GraphDim = number | string;

export type AttributeValue = number | number[] | string | { float: number };

export class GraphBuilder {
  readonly #nodes: OnnxNode[] = [];
  readonly #inputs: OnnxValueInfo[] = [];
  readonly #outputs: OnnxValueInfo[] = [];
  readonly #initializers: OnnxTensor[] = [];
  #nodeCount = 0;

  constructor(
    readonly name: string,
    readonly opset = 17,
  ) {}

  input(name: string, dims: GraphDim[], elemType: number = OnnxDataType.FLOAT): string {
    this.#inputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  output(name: string, dims: GraphDim[] | null = null, elemType: number = OnnxDataType.FLOAT): string {
    this.#outputs.push(dims === null ? { name } : valueInfo(name, dims, elemType));
    return name;
  }

  /** Adds an f32 constant initializer. */
  constant(name: string, dims: number[], values: Float32Array | number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    this.#initializers.push({
      name,
      dims,
      data_type: OnnxDataType.FLOAT,
      raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** Adds a node and returns its output names (`outputs` names them, else they are generated). */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputs?: string[] | number): string[] {
    const index = this.#nodeCount++;
    const outputNames = Array.isArray(outputs)
      ? outputs
      : Array.from({ length: outputs ?? 1 }, (_, i) => `${opType.toLowerCase()}_${index}_${i}`);
    this.#nodes.push({
      name: `${opType}_${index}`,
      op_type: opType,
      input: inputs,
      output: outputNames,
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return outputNames;
  }

  /** Serializes the model (ModelProto bytes) for `InferenceSession.create`. */
  build(): Uint8Array {
    return encodeModel({
      ir_version: ONNX_IR_VERSION,
      producer_name: 'sculpt-runtime-gpu',
      opset_import: [{ domain: '', version: this.opset }],
      graph: {
        name: this.name,
        node: this.#nodes,
        input: this.#inputs,
        output: this.#outputs,
        initializer: this.#initializers,
      },
    });
  }
}

function valueInfo(name: string, dims: GraphDim[], elemType: number): OnnxValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dim_value: dim } : { dim_param: dim })) },
      },
    },
  };
}

// AttributeProto.AttributeType values: FLOAT 1, INT 2, STRING 3, INTS 7.
function attribute(name: string, value: AttributeValue): OnnxAttribute {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`Attribute '${name}' = ${value}: pass non-integers as { float: value }`);
    return { name, type: 2, i: value };
  }
  if (typeof value === 'string') return { name, type: 3, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: 7, ints: value };
  return { name, type: 1, f: value.float };
}
