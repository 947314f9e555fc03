// The declaration of a float32 graph input or output, as ONNX models carry it.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** A float32 tensor `name` of `shape`: numbers are fixed sizes, strings symbolic (e.g. 'N'). */
export function floatValueInfo(name: string, shape: readonly (number | string)[]): onnxProto.onnx.ValueInfoProto {
  return new onnx.ValueInfoProto({
    name,
    type: new onnx.TypeProto({
      tensorType: new onnx.TypeProto.Tensor({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: new onnx.TensorShapeProto({
          dim: shape.map((d) => (typeof d === 'number' ? new onnx.TensorShapeProto.Dimension({ dimValue: d }) : new onnx.TensorShapeProto.Dimension({ dimParam: d }))),
        }),
      }),
    }),
  });
}
