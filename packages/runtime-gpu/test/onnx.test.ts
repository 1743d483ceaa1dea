import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { onnx } from '../src/index.js';

describe('onnx schema', () => {
  it('round-trips a model and keeps int64 as Long', () => {
    const graph = new onnx.GraphBuilder('test');
    graph.input('X', ['rows', 3]);
    graph.constant('W', [3, 2], [1, 2, 3, 4, 5, 6]);
    graph.node('MatMul', ['X', 'W'], {}, ['Y']);
    graph.output('Y');
    const model = onnx.decodeModel(graph.build());
    expect(onnx.int64ToNumber(model.ir_version)).toBe(onnx.ONNX_IR_VERSION);
    expect(model.graph?.node?.[0].op_type).toBe('MatMul');
    const dims = model.graph?.initializer?.[0].dims ?? [];
    expect(dims.map(onnx.int64ToNumber)).toEqual([3, 2]);
    expect(typeof dims[0]).toBe('object');
    const dim = model.graph?.input?.[0].type?.tensor_type?.shape?.dim ?? [];
    expect(dim[0].dim_param).toBe('rows');
    expect(onnx.int64ToNumber(dim[1].dim_value)).toBe(3);
  });

  it('reads unaligned raw_data by copying', () => {
    // Field 8 (name) first makes raw_data start at an odd offset inside the encoded bytes.
    const values = Float32Array.of(1.5, -2, 3.25);
    const bytes = onnx.TensorProtoType.encode(
      onnx.TensorProtoType.fromObject({ name: 'w', dims: [3], data_type: onnx.OnnxDataType.FLOAT, raw_data: new Uint8Array(values.buffer) }),
    ).finish();
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const tensor = onnx.TensorProtoType.decode(shifted.subarray(1)) as unknown as onnx.OnnxTensor;
    expect(tensor.raw_data!.byteOffset % 4).not.toBe(0);
    expect([...onnx.tensorProtoValues(tensor)]).toEqual([1.5, -2, 3.25]);
  });

  it('keeps fields unknown to the schema', () => {
    // A ModelProto with ir_version 8 and an unknown varint field 99 = 7.
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 0).int64(8);
    writer.uint32((99 << 3) | 0).int64(7);
    const original = writer.finish();
    const decoded = onnx.ModelProtoType.decode(original);
    const reencoded = onnx.ModelProtoType.encode(decoded).finish();
    expect([...reencoded]).toEqual([...original]);
  });

  it('reads typed-field tensors of each supported type', () => {
    expect([...onnx.tensorProtoValues({ dims: [2], data_type: onnx.OnnxDataType.FLOAT, float_data: [1, 2] })]).toEqual([1, 2]);
    expect([...onnx.tensorProtoValues({ dims: [1], data_type: onnx.OnnxDataType.FLOAT16, int32_data: [0x3c00] })]).toEqual([0x3c00]);
    expect([...onnx.tensorProtoValues({ dims: [1], data_type: onnx.OnnxDataType.INT64, int64_data: [5] })]).toEqual([5n]);
    expect(() => onnx.tensorProtoValues({ name: 'e', data_type: onnx.OnnxDataType.FLOAT, data_location: 1 })).toThrow(/external file/);
    expect(() => onnx.tensorProtoValues({ name: 'b', dims: [1], data_type: onnx.OnnxDataType.BOOL })).toThrow(/data_type 9/);
  });

  it('builds graphs that onnxruntime runs', async () => {
    const graph = new onnx.GraphBuilder('gemm');
    graph.input('A', ['k', 'm']);
    graph.input('B', ['k', 'n']);
    graph.node('Gemm', ['A', 'B'], { transA: 1, alpha: { float: 0.5 } }, ['Y']);
    graph.output('Y');
    const session = await ort.InferenceSession.create(graph.build());
    const a = new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [2, 2]);
    const b = new ort.Tensor('float32', Float32Array.of(1, 0, 0, 1), [2, 2]);
    const { Y } = await session.run({ A: a, B: b });
    // 0.5 · Aᵀ·I = 0.5 · [[1, 3], [2, 4]]
    expect([...(Y.data as Float32Array)]).toEqual([0.5, 1.5, 1, 2]);
    await session.release();
  });
});
