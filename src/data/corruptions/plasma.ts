// The plasma fractal (diamond-square height map) of make_cifar_c.py's fog, a modification of
// FLHerne/mapgen diamondsquare.py. Ported array-op by array-op: the np.roll neighbours, the C order of the
// random draws (wibble * U(-wibble, wibble) per new point), and the final min/max normalisation to [0, 1].

/**
 * A mapsize x mapsize plasma map (row-major). `uniform` returns U[0, 1); each draw becomes
 * -wibble + 2*wibble*U like numpy's uniform(-wibble, wibble).
 */
export function plasmaFractal(mapsize: number, wibbleDecay: number, uniform: () => number): Float64Array {
  if (mapsize < 2 || (mapsize & (mapsize - 1)) !== 0) throw new RangeError(`plasmaFractal: mapsize must be a power of two >= 2, got ${mapsize}`);
  const n = mapsize;
  const m = new Float64Array(n * n);
  let step = n;
  let wibble = 100;
  const wibbled = (v: number): number => v / 4 + wibble * (-wibble + (wibble - -wibble) * uniform());
  while (step >= 2) {
    const half = step / 2;
    const k = n / step; // points per axis on this level's grid
    // fillsquares: centres = mean of the 4 corners (corner grid rolled by -1 on both axes) + wibble.
    const sq = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) sq[i * k + j] = m[i * step * n + j * step] + m[((i + 1) % k) * step * n + j * step];
    }
    const sq2 = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) sq2[i * k + j] = sq[i * k + j] + sq[i * k + ((j + 1) % k)];
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) m[(half + i * step) * n + half + j * step] = wibbled(sq2[i * k + j]);
    }
    // filldiamonds: edge midpoints from the two neighbouring centres and the two neighbouring corners.
    const dr = (i: number, j: number): number => m[(half + i * step) * n + half + j * step];
    const ul = (i: number, j: number): number => m[i * step * n + j * step];
    const lt = new Float64Array(k * k);
    const tt = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const ldr = dr(i, j) + dr((i - 1 + k) % k, j);
        const lul = ul(i, j) + ul(i, (j + 1) % k);
        lt[i * k + j] = ldr + lul;
        const tdr = dr(i, j) + dr(i, (j - 1 + k) % k);
        const tul = ul(i, j) + ul((i + 1) % k, j);
        tt[i * k + j] = tdr + tul;
      }
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) m[i * step * n + half + j * step] = wibbled(lt[i * k + j]);
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) m[(half + i * step) * n + j * step] = wibbled(tt[i * k + j]);
    }
    step = step / 2;
    wibble /= wibbleDecay;
  }
  let min = Infinity;
  for (let i = 0; i < m.length; i++) if (m[i] < min) min = m[i];
  let max = -Infinity;
  for (let i = 0; i < m.length; i++) {
    m[i] -= min;
    if (m[i] > max) max = m[i];
  }
  for (let i = 0; i < m.length; i++) m[i] = m[i] / max;
  return m;
}
