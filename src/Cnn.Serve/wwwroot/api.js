// The server's API v1, as the page uses it.

const path = name => `/v1/models/${encodeURIComponent(name)}`;

/** Every served model's description. */
export async function listModels() {
  const response = await fetch('/v1/models');
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  return response.json();
}

/** The prediction (all classes), what the net saw and every feature map of an image: {ok, answer}. */
export async function featureMaps(model, bytes, type) {
  const response = await fetch(`${path(model.name)}/featuremaps?top=${model.labels.length}`, {
    method: 'POST', headers: { 'Content-Type': type }, body: bytes,
  });
  return { ok: response.ok, status: response.status, answer: await response.json() };
}

/** A conv layer's kernels, or null for a layer without (a pool: asking would be a 404 in the console). */
export async function kernels(model, layer) {
  if (!layer.has_kernels) return null;
  const response = await fetch(`${path(model.name)}/layers/${encodeURIComponent(layer.name)}/weights`);
  return response.ok ? response.json() : null;
}
