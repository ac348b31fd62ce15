// Banatie console: a little plain JavaScript (copy buttons, the playground's request, the focal
// point, the transform builder). Pages work without it except where noted.
"use strict";

function csrfToken() {
  const meta = document.querySelector('input[name="csrf_token"]');
  return meta ? meta.value : "";
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (err) {
    button.textContent = "Press Ctrl+C";
    const range = document.createRange();
    range.selectNodeContents(button.closest(".copyrow, .body, details, div").querySelector("code, pre"));
    const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
  }
  setTimeout(() => { button.textContent = button.dataset.label || "Copy"; }, 2000);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (source) copyText(source.textContent, button);
});

// Forms marked data-fragment post with fetch and put the HTML answer in their target, with a
// progress indicator meanwhile (the playground's Generate).
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.matches("form[data-fragment]")) return;
  event.preventDefault();
  const target = document.querySelector(form.dataset.fragment);
  const progress = document.querySelector(form.dataset.progress || "#progress");
  const submit = form.querySelector('button[type="submit"]');
  if (submit) submit.disabled = true;
  if (progress) progress.classList.add("on");
  target.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form),
      headers: { "X-CSRF-Token": csrfToken(), "X-Fragment": "1" },
    });
    target.innerHTML = await response.text();
  } catch (err) {
    target.innerHTML = '<p class="alert error" role="alert">The server did not answer: ' + err + "</p>";
  } finally {
    if (submit) submit.disabled = false;
    if (progress) progress.classList.remove("on");
    target.removeAttribute("aria-busy");
    const heading = target.querySelector("[tabindex='-1']");
    if (heading) heading.focus();
    initFocal(target);
  }
});

// The focal point: drag the marker (or move it with the arrow keys); it is saved on release.
function initFocal(root) {
  root.querySelectorAll(".figure[data-focal-url]").forEach((figure) => {
    const marker = figure.querySelector(".focal");
    const status = figure.parentElement.querySelector(".focal-status");
    if (!marker || marker.dataset.ready) return;
    marker.dataset.ready = "1";
    let x = parseFloat(figure.dataset.x), y = parseFloat(figure.dataset.y);
    const place = () => { marker.style.left = (x * 100) + "%"; marker.style.top = (y * 100) + "%";
      marker.setAttribute("aria-valuetext", `x ${x.toFixed(2)}, y ${y.toFixed(2)}`); };
    const save = async () => {
      const body = new FormData(); body.append("x", x.toFixed(4)); body.append("y", y.toFixed(4));
      const response = await fetch(figure.dataset.focalUrl, { method: "POST", body,
        headers: { "X-CSRF-Token": csrfToken(), "X-Fragment": "1" } });
      if (status) status.innerHTML = await response.text();
    };
    const fromEvent = (event) => {
      const box = figure.getBoundingClientRect();
      x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
      y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
      place();
    };
    marker.addEventListener("pointerdown", (event) => {
      marker.setPointerCapture(event.pointerId);
      const move = (e) => fromEvent(e);
      const up = () => { marker.removeEventListener("pointermove", move); marker.removeEventListener("pointerup", up); save(); };
      marker.addEventListener("pointermove", move); marker.addEventListener("pointerup", up);
    });
    marker.addEventListener("keydown", (event) => {
      const step = 0.02;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (!moves[event.key]) return;
      event.preventDefault();
      x = Math.min(1, Math.max(0, x + moves[event.key][0])); y = Math.min(1, Math.max(0, y + moves[event.key][1]));
      place();
      clearTimeout(marker._t); marker._t = setTimeout(save, 400);
    });
    place();
  });
}

// The transform builder: the URL follows the controls.
function initBuilder() {
  const builder = document.querySelector("[data-transform-builder]");
  if (!builder) return;
  const base = builder.dataset.base;
  const out = builder.querySelector("#transform-url");
  const preview = builder.querySelector("#transform-preview");
  const update = () => {
    const params = new URLSearchParams();
    builder.querySelectorAll("[data-param]").forEach((input) => {
      const label = builder.querySelector(`[data-value-for="${input.id}"]`);
      if (label) label.textContent = input.value;
      if (input.value && input.value !== input.dataset.skip) params.set(input.dataset.param, input.value);
    });
    const url = params.toString() ? `${base}?${params}` : base;
    out.textContent = url; out.href = url;
    if (preview) preview.src = url;
  };
  builder.addEventListener("input", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => { initFocal(document); initBuilder(); });
