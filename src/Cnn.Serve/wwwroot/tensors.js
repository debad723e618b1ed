// The API's tensors (float32 little-endian, base64) and painting them onto canvases.

/** The float32 values of a base64 payload. */
export function floats(base64) {
  const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** Resizes the canvas to width × height and sets pixel p to color(p) = [r, g, b]. */
export function paint(canvas, width, height, color) {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = color(p);
    image.data.set([r, g, b, 255], p * 4);
  }
  ctx.putImageData(image, 0, 0);
}

/** [min, max] of the values, widened to [v, v + 1] when they are all equal. */
export function range(values) {
  let min = Infinity, max = -Infinity;
  for (const v of values) { if (v < min) min = v; if (v > max) max = v; }
  return max > min ? [min, max] : [min, min + 1];
}
