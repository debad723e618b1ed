// The feature maps: a grid of heatmaps per layer on the layer's colour scale, values on hover or by keyboard, and a
// detail panel with one map enlarged beside the kernels that produce it.
import { viridis, diverging } from './colors.js';
import { floats, paint, range } from './tensors.js';
import { kernels } from './api.js';
import { $ } from './dom.js';

/**
 * The layer grids and the detail panel of one model. current() returns the last decoded answer (or null), so the
 * grids and the panel always show what is on screen.
 */
export function createLayers(model, current) {
  const weights = new Map();   // layer → kernels (or null for layers without)
  let selected = null;         // {layer, channel, tile} shown enlarged
  let cursor = [0, 0];         // the enlarged map's cell the keyboard reads out
  let reader = null;           // what #hover is reading out: a grid canvas under the mouse, or the enlarged map

  const value = (layer, channel, x, y) => {
    const map = current()?.maps[layer];
    if (!map) return null;
    const [, height, width] = map.shape;
    return map.values[channel * height * width + y * width + x];
  };
  // #hover is announced to screen readers only for what the keyboard reads: a mouse sweeping over a map would
  // otherwise queue an announcement for every cell it crosses.
  const say = (source, layer, channel, x, y, spoken = false) => {
    reader = source;
    const v = value(layer, channel, x, y);
    $('hover').setAttribute('aria-live', spoken ? 'polite' : 'off');
    $('hover').textContent = v == null ? '' : `${layer} map ${channel} at (${x}, ${y}): ${v.toPrecision(4)}`;
  };
  const hush = () => {
    reader = null;
    $('hover').textContent = '';
  };

  function build() {
    const list = $('layer-list');
    list.replaceChildren();
    for (const layer of model.feature_layers) {
      const [channels, height, width] = layer.shape;
      const panel = document.createElement('div');
      panel.className = 'layer';
      panel.dataset.layer = layer.name;
      panel.innerHTML = '<h3></h3><div class="legend"><span class="min"></span><canvas width="140" height="1"></canvas><span class="max"></span></div><div class="grid"></div>';
      panel.querySelector('h3').textContent = `${layer.name} · ${channels} maps of ${height}×${width}`;
      const legend = panel.querySelector('.legend canvas');
      legend.setAttribute('role', 'img');
      legend.setAttribute('aria-label', `colour scale of ${layer.name}, from its lowest value (left) to its highest (right)`);
      paint(legend, 140, 1, p => viridis(p / 139));
      const grid = panel.querySelector('.grid');
      for (let c = 0; c < channels; c++) {
        const tile = document.createElement('button');
        tile.type = 'button';
        tile.className = channels > 24 ? 'tile small' : 'tile';
        tile.setAttribute('aria-label', `${layer.name} map ${c}: enlarge, with its kernels and values`);
        const canvas = document.createElement('canvas');
        canvas.width = width;
        canvas.height = height;
        canvas.setAttribute('role', 'img');
        canvas.setAttribute('aria-label', `${layer.name} map ${c} as a heatmap`);
        tile.append(canvas);
        tile.addEventListener('click', () => open(layer, c, tile));
        canvas.addEventListener('mousemove', e => hover(e, layer.name, c));
        // Only the canvas being read out clears it: Chromium sends a late mouseleave when the layout moves a map
        // from under a resting pointer, which must not wipe what the keyboard is reading on the enlarged map.
        canvas.addEventListener('mouseleave', () => { if (reader === canvas) hush(); });
        grid.append(tile);
      }
      list.append(panel);
    }
  }

  function hover(e, layer, channel) {
    const canvas = e.currentTarget;
    const box = canvas.getBoundingClientRect();
    const x = Math.min(canvas.width - 1, Math.floor((e.clientX - box.left) * canvas.width / box.width));
    const y = Math.min(canvas.height - 1, Math.floor((e.clientY - box.top) * canvas.height / box.height));
    say(canvas, layer, channel, x, y);
  }

  /** Repaints every grid from a decoded answer, and the open panel. */
  function show(result) {
    for (const [name, map] of Object.entries(result.maps)) showLayer(name, map);
    if (selected) showDetail();
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

  async function open(layer, channel, tile) {
    selected = { layer: layer.name, channel, tile };
    cursor = [Math.floor(layer.shape[2] / 2), Math.floor(layer.shape[1] / 2)];
    $('detail').hidden = false;
    if (!weights.has(layer.name)) {
      const fetched = await kernels(model, layer);
      weights.set(layer.name, fetched);
      // The panel may have been closed, or another map opened, while the kernels were on their way.
      if (selected?.layer !== layer.name || selected.channel !== channel) return;
    }
    showDetail();
    $('close-detail').focus();
  }

  function showDetail() {
    const { layer, channel } = selected;
    $('detail-title').textContent = `${layer} · map ${channel}`;
    const big = $('big');
    const map = current()?.maps[layer];
    if (map) {
      const [, height, width] = map.shape;
      const [min, max] = range(map.values);
      const plane = height * width;
      paint(big, width, height, p => viridis((map.values[channel * plane + p] - min) / (max - min)));
      $('big-caption').textContent = `${height}×${width}, on ${layer}'s scale ${min.toPrecision(3)} … ${max.toPrecision(3)}`;
    } else {
      paint(big, 1, 1, () => [255, 255, 255]);
      $('big-caption').textContent = 'draw a digit to see this map';
    }
    big.setAttribute('aria-label', `${layer} map ${channel}, enlarged: arrow keys read its values`);
    showKernels(layer, channel);
  }

  function showKernels(layer, channel) {
    const w = weights.get(layer);
    const box = $('kernels');
    box.replaceChildren();
    if (!w) {
      $('kernel-caption').textContent = `${layer} has no weights: it pools the map before it over small windows`;
      return;
    }
    const [, inputs, kh, kw] = w.shape;
    const size = kh * kw;
    const mine = floats(w.data).subarray(channel * inputs * size, (channel + 1) * inputs * size);
    const scale = Math.max(...mine.map(Math.abs)) || 1;
    for (let i = 0; i < inputs; i++) {
      const canvas = document.createElement('canvas');
      canvas.className = 'kernel';
      canvas.title = `kernel from input channel ${i}`;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `kernel from input channel ${i}`);
      paint(canvas, kw, kh, p => diverging(mine[i * size + p] / scale));
      box.append(canvas);
    }
    $('kernel-caption').textContent = `the ${inputs} kernel${inputs > 1 ? 's' : ''} (${kh}×${kw}) that map ${channel} applies, one per input channel: blue negative, red positive, largest ${scale.toPrecision(3)}`;
  }

  /** Closes the panel and gives the focus back to the map that opened it. */
  function close() {
    const tile = selected?.tile;
    selected = null;
    $('detail').hidden = true;
    tile?.focus();
  }

  // The enlarged map, by keyboard: arrows move a cursor over its cells and the value is read out (#hover is live).
  function step(e) {
    if (!selected) return;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const move = moves[e.key];
    const map = current()?.maps[selected.layer];
    if (!move || !map) return;
    e.preventDefault();
    const [, height, width] = map.shape;
    cursor = [Math.min(width - 1, Math.max(0, cursor[0] + move[0])), Math.min(height - 1, Math.max(0, cursor[1] + move[1]))];
    say(e.currentTarget, selected.layer, selected.channel, cursor[0], cursor[1], true);
  }

  // The panel is a dialog: Tab and Shift+Tab cycle through its controls while it is open.
  function trap(e) {
    if (e.key !== 'Tab' || !selected) return;
    const focusable = [...$('detail').querySelectorAll('button, [tabindex="0"]')].filter(el => !el.hidden);
    if (focusable.length === 0) return;
    const first = focusable[0], last = focusable[focusable.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  }

  return { build, show, close, step, trap, isOpen: () => selected !== null };
}
