// The explorer page: draw (or upload) a digit, and watch the prediction and every feature layer respond.
// ES modules against the server's own API; no libraries, no build step.
import { listModels, featureMaps } from './api.js';
import { createPad } from './pad.js';
import { buildBars, show, showEmpty } from './result.js';
import { createLayers } from './layers.js';
import { $ } from './dom.js';

const state = {
  models: [],
  model: null,          // the chosen model's description from /v1/models
  layers: null,         // its grids and detail panel
  result: null,         // the last /featuremaps answer, decoded
  inFlight: false,      // at most one request at a time ...
  dirty: false,         // ... and the latest drawing wins
};

const pad = createPad($('pad'), $('brush'), {
  changed: requestPrediction,
  emptied: empty,
  status: message => { $('status').textContent = message; },
});

function empty(message) {
  state.result = null;
  showEmpty(message);
}

// aria-busy on the answer's region: an answer for the latest drawing is still coming (assistive technology waits
// for it to settle, and so can anything else that watches the page).
function busy(value) {
  $('result').setAttribute('aria-busy', String(value));
}

async function loadModels() {
  state.models = await listModels();
  const select = $('model');
  select.replaceChildren(...state.models.map(m => new Option(`${m.name} (${m.dataset})`, m.name)));
  $('model-picker').hidden = state.models.length < 2;
  select.addEventListener('change', () => chooseModel(select.value));
  chooseModel(state.models[0].name);
}

function chooseModel(name) {
  state.model = state.models.find(m => m.name === name);
  state.result = null;
  state.layers?.close();
  const m = state.model;
  const accuracy = m.test_accuracy == null ? '' : `, ${(100 * m.test_accuracy).toFixed(2)} % on its test set`;
  // An ensemble's answer averages its nets; the maps shown are its first net's.
  const ensemble = m.ensemble_size > 1 ? `, an ensemble of ${m.ensemble_size} nets (maps: net 1)` : '';
  $('model-info').textContent = `${m.labels.length} classes, input ${m.input.shape.join('×')}${accuracy}${ensemble}`;
  buildBars(m.labels);
  state.layers = createLayers(m, () => state.result);
  state.layers.build();
  pad.clear();
}

function requestPrediction() {
  busy(true);
  if (state.inFlight) {
    state.dirty = true;
    return;
  }
  send();
}

async function send() {
  if (pad.isEmpty()) {
    busy(false);
    return;
  }
  state.inFlight = true;
  state.dirty = false;
  try {
    const { bytes, type } = await pad.body();
    const model = state.model;
    const { ok, status, answer } = await featureMaps(model, bytes, type);
    if (model !== state.model) return;
    if (ok) {
      state.result = show(answer, model.labels);
      state.layers.show(state.result);
    } else {
      empty(answer.detail || answer.title || `the server answered ${status}`);
    }
  } catch (error) {
    empty(`no answer from the server (${error.message})`);
  } finally {
    state.inFlight = false;
    if (state.dirty) send();
    else busy(false);
  }
}

$('undo').addEventListener('click', () => pad.undo());
$('clear').addEventListener('click', () => pad.clear());
$('file').addEventListener('change', e => pad.load(e.target.files[0]));
$('close-detail').addEventListener('click', () => state.layers.close());
$('big').addEventListener('keydown', e => state.layers.step(e));
$('detail').addEventListener('keydown', e => state.layers?.trap(e));
document.addEventListener('keydown', e => {
  if (e.key === 'Escape' && state.layers?.isOpen()) state.layers.close();
});

loadModels().catch(error => { $('status').textContent = `cannot list the models: ${error.message}`; });
