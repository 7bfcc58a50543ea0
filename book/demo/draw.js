// "Draw a digit": the course's trained paper CNN (exported to ONNX by `python -m mnistlib export`) run in the
// reader's browser by onnxruntime-web. The drawing is prepared the way MNIST's digits were made:
//   1. the stroke's bounding box is cut out,
//   2. scaled (anti-aliased) to fit a 20 x 20 box, keeping its aspect ratio,
//   3. placed in a 28 x 28 field so that its centre of mass is at the centre (14, 14).
// The network receives those 784 grey levels (0-255, ink bright); its normalisation is inside the graph.
(function () {
  "use strict";
  const here = document.currentScript.src;
  const SIZE = 28, BOX = 20;

  // ---------------------------------------------------------------------------------------- preprocessing
  function boundingBox(image) {
    const { width, height, data } = image;
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (data[4 * (y * width + x)] > 0) {
          if (x < x0) x0 = x; if (x > x1) x1 = x;
          if (y < y0) y0 = y; if (y > y1) y1 = y;
        }
      }
    }
    return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
  }

  // Scale a region of `source` to w x h, halving at most at each step so that every pixel is averaged
  // (one big bilinear step would skip most of the stroke: aliasing).
  function resample(source, box, w, h) {
    let canvas = document.createElement("canvas");
    canvas.width = box.w; canvas.height = box.h;
    canvas.getContext("2d").drawImage(source, box.x, box.y, box.w, box.h, 0, 0, box.w, box.h);
    while (canvas.width / 2 >= w && canvas.height / 2 >= h) {
      const half = document.createElement("canvas");
      half.width = Math.max(w, Math.floor(canvas.width / 2)); half.height = Math.max(h, Math.floor(canvas.height / 2));
      const ctx = half.getContext("2d");
      ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = "high";
      ctx.drawImage(canvas, 0, 0, half.width, half.height);
      canvas = half;
    }
    const out = document.createElement("canvas");
    out.width = w; out.height = h;
    const ctx = out.getContext("2d");
    ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = "high";
    ctx.drawImage(canvas, 0, 0, w, h);
    const data = ctx.getImageData(0, 0, w, h).data, grey = new Float32Array(w * h);
    for (let i = 0; i < w * h; i++) grey[i] = data[4 * i];
    return grey;
  }

  // The 784 grey levels (row-major, 0-255) the network sees, or null for an empty canvas.
  function preprocess(canvas) {
    const image = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const box = boundingBox(image);
    if (box === null) return null;
    const scale = BOX / Math.max(box.w, box.h);
    const w = Math.max(1, Math.round(box.w * scale)), h = Math.max(1, Math.round(box.h * scale));
    const small = resample(canvas, box, w, h);
    let mass = 0, cx = 0, cy = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const v = small[y * w + x]; mass += v; cx += v * x; cy += v * y;
    }
    cx = mass > 0 ? cx / mass : (w - 1) / 2; cy = mass > 0 ? cy / mass : (h - 1) / 2;
    const ox = Math.round(SIZE / 2 - 0.5 - cx), oy = Math.round(SIZE / 2 - 0.5 - cy);
    const field = new Float32Array(SIZE * SIZE);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const X = x + ox, Y = y + oy;
      if (X >= 0 && X < SIZE && Y >= 0 && Y < SIZE) field[Y * SIZE + X] = small[y * w + x];
    }
    return field;
  }

  // ------------------------------------------------------------------------------------------- the model
  let session = null;
  async function load() {
    if (typeof ort === "undefined") throw new Error("onnxruntime-web is missing from this build: install npm and build the book again");
    ort.env.wasm.wasmPaths = new URL("../ort/", here).href;
    ort.env.wasm.numThreads = 1;
    session = await ort.InferenceSession.create(new URL("shao_cnn.onnx", here).href, { executionProviders: ["wasm"] });
  }

  async function classify(field) {
    const output = await session.run({ pixels: new ort.Tensor("float32", field, [1, 1, SIZE, SIZE]) });
    const logits = Array.from(output.logits.data), top = Math.max(...logits);
    const e = logits.map((z) => Math.exp(z - top)), total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }

  // ------------------------------------------------------------------------------------------- the page
  function start(root) {
    const canvas = root.querySelector("#draw-canvas"), ctx = canvas.getContext("2d");
    const seen = root.querySelector("#draw-seen"), bars = root.querySelector("#draw-bars");
    const table = root.querySelector("#draw-table tbody"), status = root.querySelector("#draw-status");
    const clear = () => { ctx.fillStyle = "black"; ctx.fillRect(0, 0, canvas.width, canvas.height); };
    clear();
    for (let d = 0; d < 10; d++) {
      bars.insertAdjacentHTML("beforeend", `<div class="draw-bar"><span>${d}</span><div class="draw-fill" style="width:0%"></div><span class="draw-p">0%</span></div>`);
      table.insertAdjacentHTML("beforeend", `<tr><th scope="row">${d}</th><td>-</td></tr>`);
    }

    let pending = false, last = null;
    async function update() {
      const field = preprocess(canvas);
      const seenCtx = seen.getContext("2d"), img = seenCtx.createImageData(SIZE, SIZE);
      for (let i = 0; i < SIZE * SIZE; i++) {
        const v = field ? field[i] : 0;
        img.data.set([v, v, v, 255], 4 * i);
      }
      seenCtx.putImageData(img, 0, 0);
      if (field === null || session === null) { last = null; return null; }
      const p = await classify(field);
      const best = p.indexOf(Math.max(...p));
      bars.querySelectorAll(".draw-bar").forEach((bar, d) => {
        bar.querySelector(".draw-fill").style.width = `${(100 * p[d]).toFixed(1)}%`;
        bar.querySelector(".draw-p").textContent = `${(100 * p[d]).toFixed(1)}%`;
        bar.classList.toggle("draw-best", d === best);
      });
      table.querySelectorAll("td").forEach((td, d) => { td.textContent = `${(100 * p[d]).toFixed(2)}%`; });
      status.textContent = `The network reads a ${best} (${(100 * p[best]).toFixed(1)}%).`;
      last = { input: Array.from(field), probabilities: p, predicted: best };
      return last;
    }
    const schedule = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(async () => { pending = false; await update(); });
    };

    let drawing = false, previous = null;
    const at = (e) => {
      const r = canvas.getBoundingClientRect();
      return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
    };
    canvas.addEventListener("pointerdown", (e) => { drawing = true; previous = at(e); canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointermove", (e) => {
      if (!drawing) return;
      const point = at(e);
      ctx.strokeStyle = "white"; ctx.lineWidth = 22; ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.beginPath(); ctx.moveTo(...previous); ctx.lineTo(...point); ctx.stroke();
      previous = point;
      schedule();
    });
    const stop = () => { if (drawing) { drawing = false; schedule(); } };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    root.querySelector("#draw-clear").addEventListener("click", () => { clear(); update(); });

    // A 28 x 28 digit (0-255, row-major) painted on the canvas at ten times its size, smoothed.
    async function paint(pixels) {
      const small = document.createElement("canvas");
      small.width = SIZE; small.height = SIZE;
      const image = small.getContext("2d").createImageData(SIZE, SIZE);
      pixels.forEach((v, i) => image.data.set([v, v, v, 255], 4 * i));
      small.getContext("2d").putImageData(image, 0, 0);
      clear();
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
      return update();
    }

    fetch(new URL("digits.json", here)).then((r) => r.json()).then((digits) => {
      const add = (container, item, label) => {
        const button = document.createElement("button");
        button.type = "button"; button.className = "draw-digit"; button.setAttribute("aria-label", label);
        const icon = document.createElement("canvas");
        icon.width = SIZE; icon.height = SIZE; icon.setAttribute("aria-hidden", "true");
        const image = icon.getContext("2d").createImageData(SIZE, SIZE);
        item.pixels.forEach((v, i) => image.data.set([v, v, v, 255], 4 * i));
        icon.getContext("2d").putImageData(image, 0, 0);
        button.append(icon, document.createTextNode(item.caption));
        button.addEventListener("click", () => paint(item.pixels));
        container.append(button);
      };
      digits.samples.forEach((d) => add(root.querySelector("#draw-samples"), d, `Put a sample ${d.label} on the canvas`));
      digits.mistakes.forEach((d) => add(root.querySelector("#draw-mistakes"), d,
        `Put test image ${d.index} on the canvas: a ${d.label} that the network read as ${d.predicted}`));
    });

    const about = root.querySelector("#draw-about");
    fetch(new URL("shao_cnn.json", here)).then((r) => r.json()).then((m) => {
      about.textContent = `${m.model}${m.recipe ? " (" + m.recipe + " recipe)" : ""}, seed ${m.seed}: ` +
        `${(100 * m.test_accuracy).toFixed(2)}% on MNIST's test set, trained on ${m.device_name} (commit ${m.commit.slice(0, 12)}).`;
    });

    window.mnistDemo = { preprocess: () => preprocess(canvas), paint, update, ready: null, last: () => last };
    window.mnistDemo.ready = load().then(() => { status.textContent = "Ready: draw a digit."; return update(); })
      .catch((error) => { status.textContent = `The model could not be loaded: ${error.message}`; throw error; });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("draw-demo");
    if (root) start(root);
  });
})();
