// The tensor library: Tensor, shapes, backends and every op.
export { Tensor } from "./tensor.js";
export { ShapeError, type Shape, sizeOf, stridesOf, broadcastShapes, shapeStr } from "./shape.js";
export type { Backend, KernelSpecs, KernelName, UnaryOp, BinaryOp, ReduceOp, Pair, Conv2dAttrs } from "./backend.js";
export { BACKENDS, cpuBackend, referenceBackend, getBackend, setBackend, withBackend, backendNames } from "./backends.js";
export { autoBackend, gpujs, gpujsBackend } from "./backends.js";
export { GpujsUnavailableError, provideGpujs, type GpujsBackend, type GpujsMode, type GpujsModule } from "./kernels/gpujs/index.js";
export { Rng } from "./rng.js";
export * from "./ops/elementwise.js";
export * from "./ops/matmul.js";
export * from "./ops/conv.js";
export * from "./ops/pool.js";
export * from "./ops/norm.js";
export * from "./ops/softmax.js";
export * from "./ops/reduce.js";
export * from "./ops/movement.js";
