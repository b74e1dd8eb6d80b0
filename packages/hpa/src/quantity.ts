/**
 * Kubernetes quantities as the HPA controller computes with them: int64 milli-units.
 * MilliValue() rounds up anything finer than a milli-unit, and so does this.
 */
const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };

export type Quantity = string | number;

export function toMilli(quantity: Quantity): number {
  const text = typeof quantity === 'number' ? numberToDecimal(quantity) : quantity.trim();
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|([numkMGTPE]))?$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new Error(`not a Kubernetes quantity: ${JSON.stringify(quantity)}`);
  const [, sign, whole = '', fraction = '', binary, exponent, decimal = ''] = match;
  // value = digits × 10^scale, exactly, as a BigInt and a power of ten.
  let digits = BigInt(`${whole}${fraction}` || '0');
  let scale = -fraction.length + 3; // + 3: milli-units
  if (exponent) scale += Number(exponent.slice(1));
  else if (!binary) scale += DECIMAL_SUFFIX[decimal]!;
  if (binary) digits *= BINARY_SUFFIX[binary]!;
  let milli: bigint;
  if (scale >= 0) milli = digits * 10n ** BigInt(scale);
  else {
    const divisor = 10n ** BigInt(-scale);
    milli = digits / divisor + (digits % divisor === 0n ? 0n : 1n);
  }
  return Number(sign === '-' ? -milli : milli);
}

function numberToDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a Kubernetes quantity: ${value}`);
  return value.toString().replace(/e\+?/, 'e');
}

/** A milli-value in the canonical form Kubernetes prints: "100", "1500m". */
export function formatMilli(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Go's math.Pow10 for the exponents a quantity can have: table constants, as Go computes them. */
function pow10(exponent: number): number {
  const k = Math.abs(exponent);
  const high = Math.trunc(k / 32) * 32;
  const low = Number(`1e${k % 32}`);
  return exponent >= 0 ? Number(`1e${high}`) * low : Number(`1e-${high}`) / low;
}

/**
 * Quantity.AsApproximateFloat64 of the quantity as the controller reads it back from the API
 * server, i.e. after canonicalization ("0.05" is stored as "50m", read as 50 × 10⁻³): the
 * mantissa as float64 times math.Pow10(exponent). Used for behavior.*.tolerance.
 */
export function toApproximateFloat64(quantity: Quantity): number {
  const text = typeof quantity === 'number' ? numberToDecimal(quantity) : quantity.trim();
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|([numkMGTPE]))?$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new Error(`not a Kubernetes quantity: ${JSON.stringify(quantity)}`);
  const [, sign, whole = '', fraction = '', binary, exponent, decimal = ''] = match;
  let digits = BigInt(`${whole}${fraction}` || '0');
  let scale = -fraction.length;
  if (exponent) scale += Number(exponent.slice(1));
  else if (!binary) scale += DECIMAL_SUFFIX[decimal]!;
  if (binary) digits *= BINARY_SUFFIX[binary]!;
  if (digits === 0n) return 0;
  // ParseQuantity rounds anything finer than a nano-unit up.
  if (scale < -9) {
    const divisor = 10n ** BigInt(-9 - scale);
    digits = digits / divisor + (digits % divisor === 0n ? 0n : 1n);
    scale = -9;
  }
  // AsCanonicalBytes: strip factors of ten, then lower the exponent to a multiple of three.
  while (digits % 10n === 0n) {
    digits /= 10n;
    scale += 1;
  }
  const shift = ((scale % 3) + 3) % 3;
  digits *= 10n ** BigInt(shift);
  scale -= shift;
  const value = Number(sign === '-' ? -digits : digits);
  return scale === 0 ? value : value * pow10(scale);
}
