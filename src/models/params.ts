// Named parameters: a flat map from PyTorch state-dict names to float tensors, with lookups whose errors
// name the tensor, the expected shape and where the parameters came from.
import { shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

export class ModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelError";
  }
}

export class ParamMap {
  constructor(
    readonly tensors: ReadonlyMap<string, Tensor>,
    /** Where the parameters came from (a file name), for error messages. */
    readonly source = "<params>",
  ) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor `name`; with `shape`, also checks it (-1 matches any size). */
  get(name: string, shape?: readonly number[]): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new ModelError(`${this.source}: missing tensor '${name}'`);
    if (shape && (shape.length !== t.rank || shape.some((d, i) => d !== -1 && d !== t.shape[i]))) {
      throw new ModelError(`${this.source}: tensor '${name}' has shape ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`);
    }
    return t;
  }

  maybe(name: string): Tensor | null {
    return this.tensors.get(name) ?? null;
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Total number of float values. */
  count(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.size;
    return n;
  }
}
