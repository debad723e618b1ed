// The drawing pad: strokes with a mouse, finger or pen (Pointer Events), undo, clear, and uploaded images under them.

const TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/bmp'];

/**
 * Wires the pad canvas. changed() is called whenever there is something new to read (a stroke moved or ended, an
 * upload arrived, a stroke was undone); emptied(message) when nothing is left on the pad; status(message) for a file
 * that cannot be read.
 */
export function createPad(pad, brush, { changed, emptied, status }) {
  const ctx = pad.getContext('2d');
  let strokes = [];      // [{width, points: [[x, y], ...]}] in pad pixels, for undo
  let stroke = null;     // the stroke being drawn
  let picture = null;    // an uploaded image under the strokes
  let upload = null;     // {bytes, type} of an uploaded file not yet drawn on

  const point = e => {
    const box = pad.getBoundingClientRect();
    return [(e.clientX - box.left) * pad.width / box.width, (e.clientY - box.top) * pad.height / box.height];
  };

  function drawStroke(s) {
    ctx.strokeStyle = 'black';
    ctx.fillStyle = 'black';
    ctx.lineWidth = s.width;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    const [first, ...rest] = s.points;
    ctx.beginPath();
    if (rest.length === 0) {
      ctx.arc(first[0], first[1], s.width / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    ctx.moveTo(first[0], first[1]);
    for (const [x, y] of rest) ctx.lineTo(x, y);
    ctx.stroke();
  }

  function redraw() {
    ctx.fillStyle = 'white';
    ctx.fillRect(0, 0, pad.width, pad.height);
    if (picture) {
      const s = Math.min(pad.width / picture.width, pad.height / picture.height);
      const w = picture.width * s, h = picture.height * s;
      ctx.drawImage(picture, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    }
    strokes.forEach(drawStroke);
  }

  const isEmpty = () => strokes.length === 0 && !picture;

  function clear() {
    strokes = [];
    picture = null;
    upload = null;
    redraw();
    emptied('Draw a digit, or upload an image.');
  }

  pad.addEventListener('pointerdown', e => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    pad.setPointerCapture(e.pointerId);
    upload = null;
    stroke = { width: Number(brush.value), points: [point(e)] };
    strokes.push(stroke);
    drawStroke(stroke);
    e.preventDefault();
  });
  pad.addEventListener('pointermove', e => {
    if (!stroke) return;
    stroke.points.push(point(e));
    redraw();
    changed();
  });
  const end = () => {
    if (!stroke) return;
    stroke = null;
    changed();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);

  async function load(file) {
    if (!file) return;
    if (!TYPES.includes(file.type)) {
      status(`${file.name}: not a PNG, JPEG, WebP or BMP image`);
      return;
    }
    strokes = [];
    upload = { bytes: await file.arrayBuffer(), type: file.type };
    try {
      picture = await createImageBitmap(file);
    } catch {
      picture = null;
    }
    redraw();
    changed();
  }

  pad.addEventListener('dragover', e => { e.preventDefault(); pad.classList.add('drop'); });
  pad.addEventListener('dragleave', () => pad.classList.remove('drop'));
  pad.addEventListener('drop', e => {
    e.preventDefault();
    pad.classList.remove('drop');
    load(e.dataTransfer.files[0]);
  });

  return {
    isEmpty,
    clear,
    load,
    undo() {
      strokes.pop();
      redraw();
      if (isEmpty()) emptied('Draw a digit, or upload an image.');
      else changed();
    },
    /** What to send: an uploaded photo as it is, so the server's preprocessing sees the original; a drawing as PNG. */
    async body() {
      if (upload) return upload;
      const blob = await new Promise(resolve => pad.toBlob(resolve, 'image/png'));
      return { bytes: blob, type: 'image/png' };
    },
  };
}
