/**
 * Loads the ONNX schema into protobufjs and provides typed decode/encode.
 *
 * Decoding keeps unknown fields, so files written by a newer ONNX round-trip.
 * int64 values decode as `Long`. `raw_data` is copied before it is viewed as a
 * typed array, because protobufjs returns a zero-copy view whose byte offset
 * is often not aligned to the element size.
 */
import Long from 'long';
import protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-proto.js';

protobuf.util.Long = Long;
protobuf.configure();
protobuf.Reader.discardUnknown = false;

const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;

export const onnxRoot: protobuf.Root = root;
export const ModelProtoType: protobuf.Type = root.lookupType('onnx.ModelProto');
export const TensorProtoType: protobuf.Type = root.lookupType('onnx.TensorProto');
export const GraphProtoType: protobuf.Type = root.lookupType('onnx.GraphProto');

/** The IR version written by this package's graph builder (IR 8 ships with ONNX 1.10+, opset ≤ 16 or later). */
export const ONNX_IR_VERSION = 8;

/** TensorProto.DataType values used in this repository. */
export const OnnxDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

export type Int64 = number | Long;

export interface OnnxStringEntry {
  key?: string;
  value?: string;
}

export interface OnnxTensor {
  dims?: Int64[];
  data_type?: number;
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  double_data?: number[];
  uint64_data?: Int64[];
  string_data?: Uint8Array[];
  external_data?: OnnxStringEntry[];
  data_location?: number;
}

export interface OnnxDimension {
  dim_value?: Int64;
  dim_param?: string;
  denotation?: string;
}

export interface OnnxType {
  tensor_type?: { elem_type?: number; shape?: { dim?: OnnxDimension[] } };
  denotation?: string;
}

export interface OnnxValueInfo {
  name?: string;
  type?: OnnxType;
  doc_string?: string;
}

export interface OnnxAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: OnnxTensor[];
}

export interface OnnxNode {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: OnnxAttribute[];
  doc_string?: string;
  metadata_props?: OnnxStringEntry[];
}

export interface OnnxGraph {
  node?: OnnxNode[];
  name?: string;
  initializer?: OnnxTensor[];
  sparse_initializer?: unknown[];
  doc_string?: string;
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  value_info?: OnnxValueInfo[];
}

export interface OnnxOperatorSet {
  domain?: string;
  version?: Int64;
}

export interface OnnxModel {
  ir_version?: Int64;
  opset_import?: OnnxOperatorSet[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: OnnxGraph;
  metadata_props?: OnnxStringEntry[];
}

export function decodeModel(bytes: Uint8Array): OnnxModel {
  return ModelProtoType.decode(bytes) as unknown as OnnxModel;
}

export function encodeModel(model: OnnxModel): Uint8Array {
  const message = ModelProtoType.fromObject(model as Record<string, unknown>);
  return ModelProtoType.encode(message).finish();
}

/** Converts an int64 field (number or Long) to a JS number, rejecting values beyond 2^53. */
export function int64ToNumber(value: Int64 | undefined | null): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  const result = value.toNumber();
  if (!Number.isSafeInteger(result)) {
    throw new RangeError(`ONNX int64 value ${value.toString()} does not fit a JS number exactly`);
  }
  return result;
}

/** Copies `bytes` into a fresh, aligned buffer. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/**
 * Reads the elements of a FLOAT, FLOAT16 or INT32/INT64 TensorProto held
 * inline (raw_data or typed fields). Returns Float32Array for FLOAT,
 * Uint16Array bit patterns for FLOAT16, Int32Array for INT32, and
 * BigInt64Array for INT64. External data is the caller's job.
 */
export function tensorProtoValues(tensor: OnnxTensor): Float32Array | Uint16Array | Int32Array | BigInt64Array {
  const name = tensor.name ?? '(unnamed)';
  if (tensor.data_location === 1) {
    throw new Error(`ONNX tensor '${name}' keeps its data in an external file; read it with the external-data loader`);
  }
  const size = (tensor.dims ?? []).reduce<number>((product, dim) => product * int64ToNumber(dim), 1);
  const raw = tensor.raw_data && tensor.raw_data.byteLength > 0 ? copyBytes(tensor.raw_data) : null;

  switch (tensor.data_type) {
    case OnnxDataType.FLOAT:
      return raw ? new Float32Array(raw.buffer, 0, size) : Float32Array.from(tensor.float_data ?? []);
    case OnnxDataType.FLOAT16:
      // Without raw_data, FLOAT16 bit patterns are stored one per int32_data entry.
      return raw ? new Uint16Array(raw.buffer, 0, size) : Uint16Array.from(tensor.int32_data ?? []);
    case OnnxDataType.INT32:
      return raw ? new Int32Array(raw.buffer, 0, size) : Int32Array.from(tensor.int32_data ?? []);
    case OnnxDataType.INT64:
      return raw
        ? new BigInt64Array(raw.buffer, 0, size)
        : BigInt64Array.from((tensor.int64_data ?? []).map((value) => BigInt(value.toString())));
    default:
      throw new Error(`ONNX tensor '${name}' has data_type ${tensor.data_type}, which tensorProtoValues does not read (FLOAT, FLOAT16, INT32, INT64 only)`);
  }
}
