// "Draw a digit": the course's trained paper CNN (exported to ONNX by `python -m mnistlib export --layers`)
// run in the reader's browser by onnxruntime-web, with what happens inside it. The drawing is prepared the way
// MNIST's digits were made:
//   1. the stroke's bounding box is cut out,
//   2. scaled (anti-aliased) to fit a 20 x 20 box, keeping its aspect ratio,
//   3. placed in a 28 x 28 field so that its centre of mass is at the centre (14, 14).
// The network receives those 784 grey levels (0-255, ink bright); its normalisation is inside the graph. One
// run returns the logits, the softmax, conv 1 before batch norm, and the maps of conv 1, 2 and 3
// (mnistlib/study/export.py, LAYER_OUTPUTS). The page also runs the committed GECCO, alone and in a batch.
(function () {
  "use strict";
  const here = document.currentScript.src;
  const SIZE = 28, BOX = 20, PIXELS = SIZE * SIZE;
  const PATCH = 6, STRIDE = 2, PLACES = (SIZE - PATCH) / STRIDE + 1;  // the occlusion map: 12 x 12 places
  const LAYERS = [  // output name, the name chapter 1 gives it, maps, size, tile size in CSS pixels
    { name: "conv1", label: "conv 1", maps: 12, size: 28, tile: 56 },
    { name: "conv2", label: "conv 2", maps: 24, size: 14, tile: 42 },
    { name: "conv3", label: "conv 3", maps: 32, size: 7, tile: 35 },
  ];

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
    const image = canvas.getContext("2d", { willReadFrequently: true }).getImageData(0, 0, canvas.width, canvas.height);
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
    const field = new Float32Array(PIXELS);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const X = x + ox, Y = y + oy;
      if (X >= 0 && X < SIZE && Y >= 0 && Y < SIZE) field[Y * SIZE + X] = small[y * w + x];
    }
    return field;
  }

  // ------------------------------------------------------------------------------------------- the models
  let network = null, gecco = null, about = null, companions = null;
  let queue = Promise.resolve();
  const serial = (job) => (queue = queue.then(job, job));  // one run at a time: a session is not re-entrant
  const tensor = (data, n) => new ort.Tensor("float32", data, [n, 1, SIZE, SIZE]);

  async function load() {
    if (typeof ort === "undefined") throw new Error("onnxruntime-web is missing from this build: install npm and build the book again");
    ort.env.wasm.wasmPaths = new URL("../ort/", here).href;
    ort.env.wasm.numThreads = 1;
    const options = { executionProviders: ["wasm"] };
    network = await ort.InferenceSession.create(new URL("shao_cnn.onnx", here).href, options);
    gecco = await ort.InferenceSession.create(new URL("gecco.onnx", here).href, options);
  }

  function softmax(logits) {
    const top = Math.max(...logits), e = Array.from(logits, (z) => Math.exp(z - top));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }

  // Every output of the network for one 28 x 28 field: name -> Float32Array.
  async function inside(field) {
    const out = await serial(() => network.run({ pixels: tensor(field, 1) }));
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.data]));
  }

  // How much the winning class's probability drops when a PATCH x PATCH square of background (0) covers the
  // input, for each of the PLACES x PLACES positions (stride STRIDE, row-major): all of them in one batched run.
  async function occlusion(field, winner, probability) {
    const n = PLACES * PLACES, batch = new Float32Array(n * PIXELS);
    for (let i = 0; i < PLACES; i++) for (let j = 0; j < PLACES; j++) {
      const start = (i * PLACES + j) * PIXELS;
      batch.set(field, start);
      for (let y = i * STRIDE; y < i * STRIDE + PATCH; y++) {
        batch.fill(0, start + y * SIZE + j * STRIDE, start + y * SIZE + j * STRIDE + PATCH);
      }
    }
    const out = await serial(() => network.run({ pixels: tensor(batch, n) }, ["probabilities"]));
    const q = out.probabilities.data;
    return Float32Array.from({ length: n }, (_, k) => probability - q[10 * k + winner]);
  }

  // GECCO's probabilities for the digit alone (a batch of one) and as the first of a batch with the companions.
  async function geccoAnswers(field) {
    const alone = await serial(() => gecco.run({ pixels: tensor(field, 1) }));
    const batch = new Float32Array(companions.length + PIXELS);
    batch.set(field); batch.set(companions, PIXELS);
    const among = await serial(() => gecco.run({ pixels: tensor(batch, batch.length / PIXELS) }));
    return { alone: softmax(alone.logits.data.slice(0, 10)), among: softmax(among.logits.data.slice(0, 10)) };
  }

  // ------------------------------------------------------------------------------------------- drawing
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function viridis(t) {  // t in [0, 1] -> [r, g, b], matplotlib's viridis through five of its colours
    const x = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1), i = Math.min(Math.floor(x), VIRIDIS.length - 2);
    const f = x - i;
    return VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
  }

  // Paint `values` (size x size, row-major) on `canvas` (size x size), low..high mapped through viridis.
  function paintMap(canvas, values, size, low, high) {
    const ctx = canvas.getContext("2d"), image = ctx.createImageData(size, size), span = high - low || 1;
    for (let i = 0; i < size * size; i++) image.data.set([...viridis((values[i] - low) / span), 255], 4 * i);
    ctx.putImageData(image, 0, 0);
  }

  function grey(canvas, pixels) {
    const ctx = canvas.getContext("2d"), image = ctx.createImageData(SIZE, SIZE);
    for (let i = 0; i < PIXELS; i++) { const v = pixels ? pixels[i] : 0; image.data.set([v, v, v, 255], 4 * i); }
    ctx.putImageData(image, 0, 0);
  }

  function strongest(values, start, count, size) {
    let best = start;
    for (let i = start; i < start + count; i++) if (values[i] > values[best]) best = i;
    const at = best - start;
    return { value: values[best], row: Math.floor(at / size), column: at % size };
  }

  const percent = (p, digits = 1) => `${(100 * p).toFixed(digits)}%`;
  const argmax = (p) => p.indexOf(Math.max(...p));

  // ------------------------------------------------------------------------------------------- the page
  function start() {
    const $ = (selector) => document.querySelector(selector);  // the sections follow #draw-demo, each in its own .draw-demo
    const canvas = $("#draw-canvas"), ctx = canvas.getContext("2d", { willReadFrequently: true });
    const seen = $("#draw-seen"), bars = $("#draw-bars"), table = $("#draw-table tbody"), status = $("#draw-status");
    const clear = () => { ctx.fillStyle = "black"; ctx.fillRect(0, 0, canvas.width, canvas.height); };
    clear();
    for (let d = 0; d < 10; d++) {
      bars.insertAdjacentHTML("beforeend", `<div class="draw-bar"><span>${d}</span><div class="draw-fill" style="width:0%"></div><span class="draw-p">0%</span></div>`);
      table.insertAdjacentHTML("beforeend", `<tr><th scope="row">${d}</th><td>-</td></tr>`);
    }

    // The maps of each layer: one button per map (focusable; its label says what the map holds).
    const tiles = {};
    for (const layer of LAYERS) {
      const section = document.createElement("section");
      section.className = "inside-layer";
      section.innerHTML = `<h3>${layer.label}: ${layer.maps} maps of ${layer.size} × ${layer.size}</h3><div class="inside-tiles"></div>`;
      tiles[layer.name] = Array.from({ length: layer.maps }, (_, c) => {
        const button = document.createElement("button");
        button.type = "button"; button.className = "inside-tile";
        const map = document.createElement("canvas");
        map.width = layer.size; map.height = layer.size; map.setAttribute("aria-hidden", "true");
        map.style.width = map.style.height = `${layer.tile}px`;
        button.append(map, Object.assign(document.createElement("span"), { textContent: `${c}` }));
        button.setAttribute("aria-label", `${layer.label}, map ${c}: nothing drawn yet`);
        if (layer.name === "conv1") ["click", "focus"].forEach((event) => button.addEventListener(event, () => choose(c)));
        else button.setAttribute("aria-disabled", "true");
        section.querySelector(".inside-tiles").append(button);
        return { button, map };
      });
      $("#inside-layers").append(section);
    }

    // -------------------------------------------------------------------- one pixel of conv 1, explained
    const zoom = $("#inside-zoom"), ZOOM = zoom.width / SIZE;
    let chosen = { map: 0, row: 14, column: 14 };
    function choose(map, row = chosen.row, column = chosen.column) {
      chosen = { map, row: Math.min(Math.max(row, 0), SIZE - 1), column: Math.min(Math.max(column, 0), SIZE - 1) };
      tiles.conv1.forEach(({ button }, c) => button.setAttribute("aria-pressed", String(c === map)));
      explain();
    }
    // The weighted sum behind conv 1's map `map` at (row, column): sum over the 3 x 3 window of kernel weight
    // times the normalised input (zero outside the image: the padding), plus the bias.
    function weightedSum(input, map, row, column) {
      const kernel = about.conv1_kernels[map], k = kernel.length, pad = about.conv1_padding;
      const terms = [];
      let sum = 0;
      for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) {
        const y = row + dy - pad, x = column + dx - pad, inside = y >= 0 && y < SIZE && x >= 0 && x < SIZE;
        const value = inside ? (input[y * SIZE + x] / 255 - about.mean) / about.std : 0;
        terms.push({ weight: kernel[dy][dx], value, inside });
        sum += kernel[dy][dx] * value;
      }
      return { terms, sum, bias: about.conv1_bias[map], k };
    }
    function explain() {
      const panel = $("#inside-sum");
      const { map, row, column } = chosen;
      const zctx = zoom.getContext("2d");
      zctx.clearRect(0, 0, zoom.width, zoom.height);
      if (last === null) {
        panel.textContent = "Draw a digit first: then choose a map of conv 1 and a pixel.";
        return;
      }
      const maps = last.outputs.conv1, at = map * PIXELS;
      const { low, high } = last.range.conv1;
      const small = document.createElement("canvas");
      small.width = small.height = SIZE;
      paintMap(small, maps.subarray(at, at + PIXELS), SIZE, low, high);
      zctx.imageSmoothingEnabled = false;
      zctx.drawImage(small, 0, 0, zoom.width, zoom.height);
      zctx.strokeStyle = "#ff2d55"; zctx.lineWidth = 2;
      zctx.strokeRect(column * ZOOM + 1, row * ZOOM + 1, ZOOM - 2, ZOOM - 2);
      const { terms, sum, bias, k } = weightedSum(last.input, map, row, column);
      const network = last.outputs.conv1_pre[at + row * SIZE + column], after = maps[at + row * SIZE + column];
      const cells = terms.map((t) => `<td class="${t.inside ? "" : "inside-pad"}">${t.weight.toFixed(3)} × ${t.value.toFixed(3)}</td>`);
      const rows = Array.from({ length: k }, (_, r) => `<tr>${cells.slice(r * k, (r + 1) * k).join("")}</tr>`).join("");
      zoom.setAttribute("aria-label", `conv 1, map ${map}, enlarged; the chosen pixel is row ${row}, column ${column}; ` +
        "move it with the arrow keys");
      panel.innerHTML =
        `<p>Map ${map} at row ${row}, column ${column}: kernel ${map}'s weights times the normalised input under it ` +
        `(grey cells lie in the zero padding outside the image):</p>` +
        `<table class="inside-window"><caption>weight × input, the ${k} × ${k} window</caption><tbody>${rows}</tbody></table>` +
        `<p class="inside-total">sum ${sum.toFixed(4)} + bias ${bias.toFixed(4)} = <strong>${(sum + bias).toFixed(4)}</strong>; ` +
        `the network's conv 1 before batch norm: <strong>${network.toFixed(4)}</strong>. ` +
        `After batch norm and ReLU the map holds ${after.toFixed(4)} there.</p>`;
    }
    const pixelAt = (e) => {
      const r = zoom.getBoundingClientRect();
      return [Math.floor((e.clientY - r.top) / r.height * SIZE), Math.floor((e.clientX - r.left) / r.width * SIZE)];
    };
    zoom.addEventListener("pointermove", (e) => choose(chosen.map, ...pixelAt(e)));
    zoom.addEventListener("pointerdown", (e) => choose(chosen.map, ...pixelAt(e)));
    zoom.addEventListener("keydown", (e) => {
      const move = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
      if (!move) return;
      e.preventDefault();
      choose(chosen.map, chosen.row + move[0], chosen.column + move[1]);
    });

    // -------------------------------------------------------------------- updating everything
    let pending = false, last = null, generation = 0, occluded = Promise.resolve(null), strokeEnd = null;
    const timings = { update: [], occlusion: [] };
    // the page's text states the occlusion's geometry from the constants the computation uses
    $("#occlusion-patch").textContent = `${PATCH} × ${PATCH}`;
    $("#occlusion-stride").textContent = `${STRIDE}`;
    $("#occlusion-places").textContent = `${PLACES} × ${PLACES}`;
    $("#occlusion-count").textContent = `${PLACES * PLACES}`;

    function showProbabilities(p) {
      const best = argmax(p);
      bars.querySelectorAll(".draw-bar").forEach((bar, d) => {
        bar.querySelector(".draw-fill").style.width = percent(p[d]);
        bar.querySelector(".draw-p").textContent = percent(p[d]);
        bar.classList.toggle("draw-best", d === best);
      });
      table.querySelectorAll("td").forEach((td, d) => { td.textContent = percent(p[d], 2); });
      status.textContent = `The network reads a ${best} (${percent(p[best])}).`;
    }

    function showMaps(outputs) {
      const range = {};
      for (const layer of LAYERS) {
        const values = outputs[layer.name], per = layer.size * layer.size;
        let low = Infinity, high = -Infinity;
        for (const v of values) { if (v < low) low = v; if (v > high) high = v; }
        range[layer.name] = { low, high };
        tiles[layer.name].forEach(({ button, map }, c) => {
          paintMap(map, values.subarray(c * per, (c + 1) * per), layer.size, low, high);
          const top = strongest(values, c * per, per, layer.size);
          button.setAttribute("aria-label", top.value > 0
            ? `${layer.label}, map ${c}: strongest activation ${top.value.toFixed(2)} at row ${top.row}, column ${top.column}`
            : `${layer.label}, map ${c}: no activation (every value 0)`);
        });
        $(`#inside-scale-${layer.name}`).textContent = `${layer.label}: ${low.toFixed(2)} (dark) to ${high.toFixed(2)} (yellow)`;
      }
      return range;
    }

    function showGecco(answers) {
      const alone = argmax(answers.alone), among = argmax(answers.among);
      $("#gecco-alone").textContent = `reads a ${alone} (${percent(answers.alone[alone])})`;
      $("#gecco-among").textContent = `reads a ${among} (${percent(answers.among[among])})`;
      $("#gecco-verdict").textContent = alone === among
        ? "Here both answers agree; try other digits: often they do not."
        : "The same network, the same weights, the same digit: two answers, because GECCO's prediction depends on the other images in its batch.";
    }

    // The occlusion map over the digit: each place's drop drawn as the 2 x 2 pixels at the centre of its square
    // (red: covering it lowers the answer's probability; blue: raises it; stronger colour, larger change).
    function showOcclusion(drops, winner, field) {
      const target = $("#occlusion-map"), octx = target.getContext("2d"), unit = target.width / SIZE;
      const small = document.createElement("canvas");
      small.width = small.height = SIZE;
      grey(small, field.map((v) => 0.45 * v));
      octx.imageSmoothingEnabled = false;
      octx.drawImage(small, 0, 0, target.width, target.height);
      const limit = Math.max(1e-6, ...drops.map(Math.abs)), centre = (PATCH - STRIDE) / 2;
      drops.forEach((d, k) => {
        const i = Math.floor(k / PLACES), j = k % PLACES, alpha = Math.min(Math.abs(d) / limit, 1);
        octx.fillStyle = d >= 0 ? `rgba(230, 30, 30, ${alpha})` : `rgba(40, 90, 230, ${alpha})`;
        octx.fillRect((j * STRIDE + centre) * unit, (i * STRIDE + centre) * unit, STRIDE * unit, STRIDE * unit);
      });
      const top = drops.indexOf(Math.max(...drops)), i = Math.floor(top / PLACES), j = top % PLACES;
      const text = `Covering rows ${i * STRIDE} to ${i * STRIDE + PATCH - 1}, columns ${j * STRIDE} to ${j * STRIDE + PATCH - 1} ` +
        `lowers the probability of a ${winner} the most, by ${(100 * drops[top]).toFixed(1)} points.`;
      target.setAttribute("aria-label", `Occlusion map, 12 by 12 places: ${text}`);
      $("#occlusion-status").textContent = text;
    }

    // Run the network on the drawing, show every layer, GECCO's two answers; then (unless a stroke is still
    // going on) the occlusion map.
    async function update({ occlude = true } = {}) {
      const field = preprocess(canvas);
      grey(seen, field);
      const mine = ++generation;
      if (field === null || network === null) {
        last = null; occluded = Promise.resolve(null); explain();
        return null;
      }
      const outputs = await inside(field);
      const answers = await geccoAnswers(field);
      if (mine !== generation) return summary();  // a newer drawing is on its way
      const probabilities = Array.from(outputs.probabilities);
      const predicted = argmax(probabilities);
      showProbabilities(probabilities);
      last = { input: field, probabilities, predicted, outputs, gecco: answers, range: showMaps(outputs) };
      showGecco(answers);
      explain();
      if (occlude) {
        if (strokeEnd !== null) timings.update.push(performance.now() - strokeEnd);
        const began = strokeEnd ?? performance.now();
        strokeEnd = null;
        occluded = occlusion(field, predicted, outputs.probabilities[predicted]).then((drops) => {
          if (mine !== generation) return null;
          showOcclusion(Array.from(drops), predicted, field);
          timings.occlusion.push(performance.now() - began);
          return { winner: predicted, drops: Array.from(drops) };
        });
      }
      return summary();
    }
    const summary = () => last && { input: Array.from(last.input), probabilities: last.probabilities, predicted: last.predicted };
    const schedule = (options) => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(async () => { pending = false; await update(options); });
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
      schedule({ occlude: false });
    });
    const stop = () => {
      if (!drawing) return;
      drawing = false; strokeEnd = performance.now();
      requestAnimationFrame(() => update());  // after any update still scheduled by the stroke
    };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    $("#draw-clear").addEventListener("click", () => { clear(); update(); });

    // A 28 x 28 digit (0-255, row-major) painted on the canvas at ten times its size, smoothed.
    async function paint(pixels) {
      const small = document.createElement("canvas");
      small.width = SIZE; small.height = SIZE;
      grey(small, pixels);
      clear();
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
      return update();
    }

    const digitsLoaded = fetch(new URL("digits.json", here)).then((r) => r.json()).then((digits) => {
      const add = (container, item, label) => {
        const button = document.createElement("button");
        button.type = "button"; button.className = "draw-digit"; button.setAttribute("aria-label", label);
        const icon = document.createElement("canvas");
        icon.width = SIZE; icon.height = SIZE; icon.setAttribute("aria-hidden", "true");
        grey(icon, item.pixels);
        button.append(icon, document.createTextNode(item.caption));
        button.addEventListener("click", () => paint(item.pixels));
        container.append(button);
      };
      digits.samples.forEach((d) => add($("#draw-samples"), d, `Put a sample ${d.label} on the canvas`));
      digits.mistakes.forEach((d) => add($("#draw-mistakes"), d, `Put test image ${d.index} on the canvas: a ${d.label} ` +
        `that the network reads as a ${d.predicted}, with ${percent(d.confidence, 0)} confidence`));
      companions = new Float32Array(digits.companions.length * PIXELS);
      digits.companions.forEach((d, i) => companions.set(d.pixels, i * PIXELS));
      for (const id of ["#gecco-companions", "#gecco-companions-row"]) $(id).textContent = `${digits.companions.length}`;
      const audit = digits.gecco_audit;
      if (audit) {
        $("#gecco-audit").textContent = `Over MNIST's 10,000 test digits, chapter 5 measured it: alone, GECCO reads ` +
          `${percent(audit["1"])} of them correctly; in batches of 64, ${percent(audit["64"])}.`;
      }
      return digits;
    });

    const aboutLoaded = fetch(new URL("shao_cnn.json", here)).then((r) => r.json()).then((m) => {
      about = m;
      const recipe = [m.recipe && `${m.recipe} recipe`, m.tag].filter(Boolean).join(", ");
      const name = `${m.model}${recipe ? " (" + recipe + ")" : ""}, seed ${m.seed}`;
      $("#draw-about").textContent = `${name}: ${percent(m.val_accuracy, 2)} on the validation split (how it was ` +
        `chosen), ${percent(m.test_accuracy, 2)} on MNIST's test set; trained on ${m.device_name} ` +
        `(commit ${m.commit.slice(0, 12)}).`;
      $("#inside-whose").textContent = `The kernels below are those of the network this page runs: ${name}. ` +
        `Chapter 1 shows the kernels of another network, the paper recipe's seed 0, so the numbers there differ.`;
      return m;
    });
    fetch(new URL("gecco.json", here)).then((r) => r.json()).then((m) => {
      $("#gecco-about").textContent = `${m.model}, seed ${m.seed}: ${percent(m.test_accuracy, 2)} on MNIST's test set ` +
        `in batches of 64, as it was trained.`;
    });

    window.mnistDemo = {
      preprocess: () => preprocess(canvas), paint, update, last: summary, occlusion: () => occluded,
      choose: (map, row, column) => { choose(map, row, column); return weightedSum(last.input, map, row, column); },
      timings,
      // plain arrays of everything the page shows, for tests
      snapshot: () => last && {
        input: Array.from(last.input), probabilities: last.probabilities, predicted: last.predicted, gecco: last.gecco,
        outputs: Object.fromEntries(Object.entries(last.outputs).map(([k, v]) => [k, Array.from(v)])),
      },
      ready: null,
    };
    window.mnistDemo.ready = Promise.all([load(), digitsLoaded, aboutLoaded])
      .then(() => { status.textContent = "Ready: draw a digit."; return update(); })
      .catch((error) => { status.textContent = `The model could not be loaded: ${error.message}`; throw error; });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (document.getElementById("draw-demo")) start();
  });
})();
