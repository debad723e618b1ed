// The explorer page: draw (or upload) a digit, and watch the prediction and every feature layer respond.
// Plain browser JavaScript against the server's own API; no libraries, no build step.
'use strict';

const $ = id => document.getElementById(id);

// Matplotlib's viridis at nine stops, as the CLI's figures draw feature maps.
const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];

const state = {
  models: [],
  model: null,          // the chosen model's description from /v1/models
  strokes: [],          // [{width, points: [[x, y], ...]}] in pad pixels, for undo
  stroke: null,         // the stroke being drawn
  picture: null,        // an uploaded image under the strokes
  upload: null,         // {bytes, type} of an uploaded file not yet drawn on
  inFlight: false,      // at most one request at a time ...
  dirty: false,         // ... and the latest drawing wins
  result: null,         // the last /featuremaps answer, decoded
  weights: new Map(),   // layer → kernels (or null for layers without)
  selected: null,       // {layer, channel} shown enlarged
  strokeEnded: 0,
};

function viridis(t) {
  t = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(t), VIRIDIS.length - 2), f = t - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return [0, 1, 2].map(k => Math.round(a[k] + (b[k] - a[k]) * f));
}

// Signed weights: blue below zero, white at zero, red above.
function diverging(t) {
  t = Math.max(-1, Math.min(1, t));
  return t < 0 ? [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255] : [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))];
}

function floats(base64) {
  const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

function paint(canvas, width, height, color) {
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

// ---- models --------------------------------------------------------------------------------------------------

async function loadModels() {
  const response = await fetch('/v1/models');
  state.models = await response.json();
  const select = $('model');
  select.replaceChildren(...state.models.map(m => new Option(`${m.name} (${m.dataset})`, m.name)));
  $('model-picker').hidden = state.models.length < 2;
  select.addEventListener('change', () => chooseModel(select.value));
  chooseModel(state.models[0].name);
}

function chooseModel(name) {
  state.model = state.models.find(m => m.name === name);
  state.result = null;
  state.selected = null;
  state.weights.clear();
  $('detail').hidden = true;
  const m = state.model;
  const accuracy = m.test_accuracy == null ? '' : `, ${(100 * m.test_accuracy).toFixed(2)} % on its test set`;
  // An ensemble's answer averages its nets; the maps shown are its first net's.
  const ensemble = m.ensemble_size > 1 ? `, an ensemble of ${m.ensemble_size} nets (maps: net 1)` : '';
  $('model-info').textContent = `${m.labels.length} classes, input ${m.input.shape.join('×')}${accuracy}${ensemble}`;
  buildBars();
  buildLayers();
  clearPad();
}

function buildBars() {
  $('bars').replaceChildren(...state.model.labels.map(label => {
    const li = document.createElement('li');
    li.innerHTML = '<span class="name"></span><span class="bar"><span></span></span><span class="value"></span>';
    li.querySelector('.name').textContent = label;
    return li;
  }));
}

function buildLayers() {
  const list = $('layer-list');
  list.replaceChildren();
  for (const layer of state.model.feature_layers) {
    const [channels, height, width] = layer.shape;
    const panel = document.createElement('div');
    panel.className = 'layer';
    panel.dataset.layer = layer.name;
    panel.innerHTML = `<h3></h3><div class="legend"><span class="min"></span><canvas width="140" height="1"></canvas><span class="max"></span></div><div class="grid"></div>`;
    panel.querySelector('h3').textContent = `${layer.name} · ${channels} maps of ${height}×${width}`;
    paint(panel.querySelector('.legend canvas'), 140, 1, p => viridis(p / 139));
    const grid = panel.querySelector('.grid');
    for (let c = 0; c < channels; c++) {
      const tile = document.createElement('button');
      tile.type = 'button';
      tile.className = channels > 24 ? 'tile small' : 'tile';
      tile.setAttribute('aria-label', `${layer.name} map ${c}`);
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      tile.append(canvas);
      tile.addEventListener('click', () => select(layer.name, c));
      canvas.addEventListener('mousemove', e => hover(e, layer.name, c));
      canvas.addEventListener('mouseleave', () => { $('hover').textContent = ''; });
      grid.append(tile);
    }
    list.append(panel);
  }
}

// ---- drawing -------------------------------------------------------------------------------------------------

const pad = $('pad');
const ctx = pad.getContext('2d');

function point(e) {
  const box = pad.getBoundingClientRect();
  return [(e.clientX - box.left) * pad.width / box.width, (e.clientY - box.top) * pad.height / box.height];
}

function drawStroke(stroke) {
  ctx.strokeStyle = 'black';
  ctx.fillStyle = 'black';
  ctx.lineWidth = stroke.width;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  const [first, ...rest] = stroke.points;
  if (rest.length === 0) {
    ctx.beginPath();
    ctx.arc(first[0], first[1], stroke.width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(first[0], first[1]);
  for (const [x, y] of rest) ctx.lineTo(x, y);
  ctx.stroke();
}

function redraw() {
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, pad.width, pad.height);
  if (state.picture) {
    const s = Math.min(pad.width / state.picture.width, pad.height / state.picture.height);
    const w = state.picture.width * s, h = state.picture.height * s;
    ctx.drawImage(state.picture, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  }
  state.strokes.forEach(drawStroke);
}

function clearPad() {
  state.strokes = [];
  state.picture = null;
  state.upload = null;
  redraw();
  showEmpty('Draw a digit, or upload an image.');
}

pad.addEventListener('pointerdown', e => {
  if (e.pointerType === 'mouse' && e.button !== 0) return;
  pad.setPointerCapture(e.pointerId);
  state.upload = null;
  state.stroke = { width: Number($('brush').value), points: [point(e)] };
  state.strokes.push(state.stroke);
  drawStroke(state.stroke);
  e.preventDefault();
});

pad.addEventListener('pointermove', e => {
  if (!state.stroke) return;
  state.stroke.points.push(point(e));
  redraw();
  requestPrediction();
});

function endStroke() {
  if (!state.stroke) return;
  state.stroke = null;
  state.strokeEnded = performance.now();
  requestPrediction();
}

pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);

$('undo').addEventListener('click', () => {
  state.strokes.pop();
  redraw();
  if (state.strokes.length === 0 && !state.picture) showEmpty('Draw a digit, or upload an image.');
  else requestPrediction();
});
$('clear').addEventListener('click', clearPad);

// ---- uploads ---------------------------------------------------------------------------------------------------

async function upload(file) {
  if (!file) return;
  if (!['image/png', 'image/jpeg', 'image/webp', 'image/bmp'].includes(file.type)) {
    $('status').textContent = `${file.name}: not a PNG, JPEG, WebP or BMP image`;
    return;
  }
  state.strokes = [];
  state.upload = { bytes: await file.arrayBuffer(), type: file.type, name: file.name };
  try {
    state.picture = await createImageBitmap(file);
  } catch {
    state.picture = null;
  }
  redraw();
  requestPrediction();
}

$('file').addEventListener('change', e => upload(e.target.files[0]));
pad.addEventListener('dragover', e => { e.preventDefault(); pad.classList.add('drop'); });
pad.addEventListener('dragleave', () => pad.classList.remove('drop'));
pad.addEventListener('drop', e => {
  e.preventDefault();
  pad.classList.remove('drop');
  upload(e.dataTransfer.files[0]);
});

// ---- predictions ---------------------------------------------------------------------------------------------

// data-busy says whether an answer is still coming for the latest drawing (tests and tools wait on it).
function busy(value) {
  document.body.dataset.busy = String(value);
}

function requestPrediction() {
  busy(true);
  if (state.inFlight) {
    state.dirty = true;
    return;
  }
  send();
}

async function body() {
  // An uploaded photo goes as it is, so the server's preprocessing sees the original; a drawing goes as PNG.
  if (state.upload) return { bytes: state.upload.bytes, type: state.upload.type };
  const blob = await new Promise(resolve => pad.toBlob(resolve, 'image/png'));
  return { bytes: blob, type: 'image/png' };
}

async function send() {
  if (state.strokes.length === 0 && !state.picture) {
    busy(false);
    return;
  }
  state.inFlight = true;
  state.dirty = false;
  try {
    const { bytes, type } = await body();
    const model = state.model;
    const response = await fetch(`/v1/models/${encodeURIComponent(model.name)}/featuremaps?top=${model.labels.length}`, {
      method: 'POST', headers: { 'Content-Type': type }, body: bytes,
    });
    const answer = await response.json();
    if (model !== state.model) return;
    if (response.ok) show(answer);
    else showEmpty(answer.detail || answer.title || `the server answered ${response.status}`);
  } catch (error) {
    showEmpty(`no answer from the server (${error.message})`);
  } finally {
    state.inFlight = false;
    if (state.dirty) send();
    else busy(false);
  }
}

function showEmpty(message) {
  state.result = null;
  $('label').textContent = '–';
  $('probability').textContent = '';
  $('answer').classList.remove('unsure');
  document.body.dataset.unsure = 'false';
  $('status').textContent = message;
  for (const li of $('bars').children) {
    li.classList.remove('best');
    li.querySelector('.bar span').style.width = '0';
    li.querySelector('.value').textContent = '';
  }
  paint($('seen'), 1, 1, () => [0, 0, 0]);
}

function show(answer) {
  const result = {
    label: answer.label,
    probability: answer.probability,
    unsure: answer.unsure,
    top: answer.top,
    input: { shape: answer.input.shape, values: floats(answer.input.data) },
    maps: Object.fromEntries(Object.entries(answer.maps).map(([name, t]) => [name, { shape: t.shape, values: floats(t.data) }])),
  };
  state.result = result;
  $('label').textContent = result.label;
  $('probability').textContent = `${(100 * result.probability).toFixed(1)} %`;
  // Below the server's --min-probability the answer is a guess: say so, and ask for a clearer digit.
  $('answer').classList.toggle('unsure', result.unsure);
  $('status').textContent = result.unsure ? 'unsure — draw again?' : '';
  showBars(result.top);
  showInput(result.input);
  for (const [name, map] of Object.entries(result.maps)) showLayer(name, map);
  if (state.selected) showDetail();
  if (state.strokeEnded) {
    document.body.dataset.latency = (performance.now() - state.strokeEnded).toFixed(1);
    state.strokeEnded = 0;
  }
  document.body.dataset.predicted = result.label;
  document.body.dataset.unsure = String(result.unsure);
}

function showBars(top) {
  const byLabel = new Map(top.map(t => [t.label, t.probability]));
  state.model.labels.forEach((label, i) => {
    const li = $('bars').children[i];
    const p = byLabel.get(label) ?? 0;
    li.classList.toggle('best', label === top[0].label);
    li.querySelector('.bar span').style.width = `${(100 * p).toFixed(1)}%`;
    li.querySelector('.value').textContent = `${(100 * p).toFixed(1)} %`;
  });
}

function showInput({ shape: [channels, height, width], values }) {
  const plane = height * width;
  paint($('seen'), width, height, p => {
    const v = c => Math.round(255 * Math.min(1, Math.max(0, values[c * plane + p])));
    return channels === 3 ? [v(0), v(1), v(2)] : [v(0), v(0), v(0)];
  });
}

function range(values) {
  let min = Infinity, max = -Infinity;
  for (const v of values) { if (v < min) min = v; if (v > max) max = v; }
  return max > min ? [min, max] : [min, min + 1];
}

function showLayer(name, { shape: [channels, height, width], values }) {
  const panel = document.querySelector(`.layer[data-layer="${CSS.escape(name)}"]`);
  if (!panel) return;
  const [min, max] = range(values);
  panel.querySelector('.min').textContent = min.toPrecision(3);
  panel.querySelector('.max').textContent = max.toPrecision(3);
  const canvases = panel.querySelectorAll('.grid canvas');
  const plane = height * width;
  for (let c = 0; c < channels; c++) {
    paint(canvases[c], width, height, p => viridis((values[c * plane + p] - min) / (max - min)));
  }
}

// ---- hover and drill-down ----------------------------------------------------------------------------------------

function mapValue(layer, channel, x, y) {
  const map = state.result?.maps[layer];
  if (!map) return null;
  const [, height, width] = map.shape;
  return map.values[channel * height * width + y * width + x];
}

function hover(e, layer, channel) {
  const canvas = e.currentTarget;
  const box = canvas.getBoundingClientRect();
  const x = Math.min(canvas.width - 1, Math.floor((e.clientX - box.left) * canvas.width / box.width));
  const y = Math.min(canvas.height - 1, Math.floor((e.clientY - box.top) * canvas.height / box.height));
  const v = mapValue(layer, channel, x, y);
  $('hover').textContent = v == null ? '' : `${layer} map ${channel} at (${x}, ${y}): ${v.toPrecision(4)}`;
}

async function select(layer, channel) {
  state.selected = { layer, channel };
  $('detail').hidden = false;
  const info = state.model.feature_layers.find(l => l.name === layer);
  if (!state.weights.has(layer)) {
    // Only conv layers have kernels; asking for a pool's would be a 404 in the console.
    const response = info.has_kernels ? await fetch(`/v1/models/${encodeURIComponent(state.model.name)}/layers/${encodeURIComponent(layer)}/weights`) : null;
    state.weights.set(layer, response?.ok ? await response.json() : null);
  }
  showDetail();
  $('close-detail').focus();
}

function showDetail() {
  const { layer, channel } = state.selected;
  $('detail-title').textContent = `${layer} · map ${channel}`;
  const map = state.result?.maps[layer];
  if (map) {
    const [, height, width] = map.shape;
    const [min, max] = range(map.values);
    const plane = height * width;
    paint($('big'), width, height, p => viridis((map.values[channel * plane + p] - min) / (max - min)));
    $('big-caption').textContent = `${height}×${width}, on ${layer}'s scale ${min.toPrecision(3)} … ${max.toPrecision(3)}`;
  } else {
    paint($('big'), 1, 1, () => [255, 255, 255]);
    $('big-caption').textContent = 'draw a digit to see this map';
  }
  const weights = state.weights.get(layer);
  const kernels = $('kernels');
  kernels.replaceChildren();
  if (!weights) {
    $('kernel-caption').textContent = `${layer} has no weights: it pools the map before it over small windows`;
    return;
  }
  const [, inputs, kh, kw] = weights.shape;
  const all = floats(weights.data);
  const size = kh * kw;
  const mine = all.subarray(channel * inputs * size, (channel + 1) * inputs * size);
  const scale = Math.max(...mine.map(Math.abs)) || 1;
  for (let i = 0; i < inputs; i++) {
    const canvas = document.createElement('canvas');
    canvas.className = 'kernel';
    canvas.title = `kernel from input channel ${i}`;
    paint(canvas, kw, kh, p => diverging(mine[i * size + p] / scale));
    kernels.append(canvas);
  }
  $('kernel-caption').textContent = `the ${inputs} kernel${inputs > 1 ? 's' : ''} (${kh}×${kw}) that map ${channel} applies, one per input channel: blue negative, red positive, largest ${scale.toPrecision(3)}`;
}

$('close-detail').addEventListener('click', () => { state.selected = null; $('detail').hidden = true; });
document.addEventListener('keydown', e => {
  if (e.key === 'Escape' && !$('detail').hidden) $('close-detail').click();
});

loadModels().catch(error => { $('status').textContent = `cannot list the models: ${error.message}`; });
