// The answer: label and probability, the unsure flag, a bar per class and what the net saw.
import { floats, paint } from './tensors.js';
import { $ } from './dom.js';

/** One list item per class, in the model's label order. */
export function buildBars(labels) {
  $('bars').replaceChildren(...labels.map(label => {
    const li = document.createElement('li');
    li.innerHTML = '<span class="name"></span><span class="bar"><span></span></span><span class="value"></span>';
    li.querySelector('.name').textContent = label;
    return li;
  }));
}

/** No answer to show, and why. */
export function showEmpty(message) {
  $('label').textContent = '–';
  $('probability').textContent = '';
  $('answer').classList.remove('unsure');
  $('status').textContent = message;
  for (const li of $('bars').children) {
    li.classList.remove('best');
    li.querySelector('.bar span').style.width = '0';
    li.querySelector('.value').textContent = '';
  }
  paint($('seen'), 1, 1, () => [0, 0, 0]);
}

/** Shows a /featuremaps answer and returns it decoded: {label, probability, unsure, top, input, maps}. */
export function show(answer, labels) {
  const result = {
    label: answer.label,
    probability: answer.probability,
    unsure: answer.unsure,
    top: answer.top,
    input: { shape: answer.input.shape, values: floats(answer.input.data) },
    maps: Object.fromEntries(Object.entries(answer.maps).map(([name, t]) => [name, { shape: t.shape, values: floats(t.data) }])),
  };
  $('label').textContent = result.label;
  $('probability').textContent = `${(100 * result.probability).toFixed(1)} %`;
  // Below the server's --min-probability the answer is a guess: say so, and ask for a clearer digit.
  $('answer').classList.toggle('unsure', result.unsure);
  $('status').textContent = result.unsure ? 'unsure — draw again?' : '';
  showBars(labels, result.top);
  showInput(result.input);
  return result;
}

function showBars(labels, top) {
  const byLabel = new Map(top.map(t => [t.label, t.probability]));
  labels.forEach((label, i) => {
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
