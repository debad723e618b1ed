// Colour scales of the explorer page, as the CLI's figures draw them.

// Matplotlib's viridis at nine stops.
const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];

/** Viridis at t in [0, 1] (clamped; not a number counts as 0), as [r, g, b]. */
export function viridis(t) {
  t = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(t), VIRIDIS.length - 2), f = t - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return [0, 1, 2].map(k => Math.round(a[k] + (b[k] - a[k]) * f));
}

/** Signed weights in [-1, 1]: blue below zero, white at zero, red above. */
export function diverging(t) {
  t = Math.max(-1, Math.min(1, t));
  return t < 0 ? [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255] : [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))];
}
