// The upload form's file field (/account/maps/new) as a drop zone. Without this script the
// plain file picker works as it is; with it a file can also be dropped on the zone, the chosen
// file's name and size are shown, and a file over the size limit is named before it is sent
// (the server checks again). No inline style: it only toggles classes and the hidden attribute.
(function () {
  "use strict";
  var zone = document.querySelector("[data-dropzone]");
  if (!zone) { return; }
  var input = zone.querySelector("input[type=file]");
  var chosen = zone.querySelector("[data-chosen]");
  var tooLarge = zone.querySelector("[data-too-large]");
  var words = zone.querySelector(".drop-words");
  var maxBytes = +zone.getAttribute("data-max-bytes") || 0;
  var maxSize = zone.getAttribute("data-max-size") || "";
  if (!input || !chosen || !tooLarge) { return; }
  if (words) { words.hidden = false; }
  zone.classList.add("dropzone-on");

  function size(bytes) {
    if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MiB"; }
    if (bytes >= 1024) { return Math.ceil(bytes / 1024) + " KiB"; }
    return bytes + " bytes";
  }

  function show() {
    var file = input.files && input.files[0];
    chosen.textContent = file ? "Chosen: " + file.name + " (" + size(file.size) + ")" : "";
    var over = !!file && maxBytes > 0 && file.size > maxBytes;
    tooLarge.hidden = !over;
    tooLarge.textContent = over ? "This file is too large: a map may be at most " + maxSize + "." : "";
    tooLarge.id = over ? "too-large-now" : "";
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== "too-large-now";
    });
    if (over) { described.push("too-large-now"); }
    input.setAttribute("aria-describedby", described.join(" "));
  }

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
  }

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      if (!hasFiles(event)) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("dropzone-over");
    });
  });
  zone.addEventListener("dragleave", function (event) {
    if (!zone.contains(event.relatedTarget)) { zone.classList.remove("dropzone-over"); }
  });
  zone.addEventListener("drop", function (event) {
    zone.classList.remove("dropzone-over");
    if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
    event.preventDefault();
    var files = event.dataTransfer.files;
    if (files.length > 1) {
      var one = new DataTransfer();
      one.items.add(files[0]);
      files = one.files;
    }
    input.files = files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
  // A file dropped beside the zone would make the browser leave the form to open it.
  ["dragover", "drop"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (hasFiles(event) && !zone.contains(event.target)) { event.preventDefault(); }
    });
  });
  input.addEventListener("change", show);
  show();
})();
