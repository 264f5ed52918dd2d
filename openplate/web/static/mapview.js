// Mind-map viewer: zoom, pan and folding branches in a picture drawn by render_svg
// (openplate/library/picture/svg.py), inside <figure class="mapview" data-mapview>.
// Without this script the figure shows the whole picture, scaled to the page; with it the picture
// sits in a frame that can be dragged (mouse, touch or arrow keys), zoomed (buttons, wheel,
// pinch, + and -, 0 to fit again), and each topic with subtopics folds and unfolds on a click,
// Enter or Space. Nothing but the SVG's own structure is read: each topic is a
// <g class="mm-node" data-id data-parent data-depth data-children>, each curve a
// <path class="mm-edge" data-id data-parent>. Styles are in mapview.css.
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var STEP = 1.25;        // one zoom step
  var MAX_ZOOM = 12;      // how far in, relative to the whole picture
  var MIN_ZOOM = 0.5;     // how far out
  var PAN = 0.15;         // an arrow key moves this share of the view
  var DRAG_SLOP = 4;      // pixels a pointer moves before a press becomes a drag

  function button(label, text, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "mapview-button";
    b.setAttribute("aria-label", label);
    b.title = label;
    b.textContent = text;
    b.addEventListener("click", action);
    return b;
  }

  function enhance(figure) {
    var svg = figure.querySelector("svg.mindmap");
    if (!svg || figure.classList.contains("mapview-on")) { return; }
    var base = svg.viewBox.baseVal;
    var home = { x: base.x, y: base.y, w: base.width, h: base.height };
    var view = { x: home.x, y: home.y, w: home.w, h: home.h };
    var name = svg.querySelector(":scope > title");

    // The nodes and curves, by id; children lists in document (outline) order.
    var nodes = {};
    var order = [];
    svg.querySelectorAll("g.mm-node[data-id]").forEach(function (g) {
      var id = g.getAttribute("data-id");
      nodes[id] = { g: g, edge: null, kids: [], parent: g.getAttribute("data-parent"),
                    depth: +g.getAttribute("data-depth"), collapsed: false, badge: null };
      order.push(id);
    });
    svg.querySelectorAll("path.mm-edge[data-id]").forEach(function (p) {
      var n = nodes[p.getAttribute("data-id")];
      if (n) { n.edge = p; }
    });
    order.forEach(function (id) {
      var parent = nodes[id].parent;
      if (parent !== null && nodes[parent]) { nodes[parent].kids.push(id); }
    });

    // The frame, the toolbar and a short help line.
    figure.classList.add("mapview-on");
    var frame = document.createElement("div");
    frame.className = "mapview-frame";
    frame.tabIndex = 0;
    frame.setAttribute("role", "group");
    frame.setAttribute("aria-label", (name ? name.textContent : "Mind map") +
      " (drag or use the arrow keys to move, + and - to zoom, 0 to fit)");
    svg.parentNode.insertBefore(frame, svg);
    frame.appendChild(svg);
    svg.setAttribute("role", "group");
    if (name) { svg.setAttribute("aria-label", name.textContent); }
    svg.removeAttribute("width");
    svg.removeAttribute("height");

    var tools = document.createElement("div");
    tools.className = "mapview-tools";
    tools.setAttribute("role", "toolbar");
    tools.setAttribute("aria-label", "Picture");
    tools.appendChild(button("Zoom in", "+", function () { zoomBy(STEP); }));
    tools.appendChild(button("Zoom out", "\u2212", function () { zoomBy(1 / STEP); }));
    tools.appendChild(button("Fit the whole map", "Fit", function () { reset(); }));
    tools.appendChild(button("Fold all branches", "Fold all", function () { foldAll(true); }));
    tools.appendChild(button("Unfold all branches", "Unfold all", function () { foldAll(false); }));
    figure.insertBefore(tools, frame);

    // Topics with subtopics become buttons, named by their text (or their <title>, which
    // holds the whole title when the box shows it cut short).
    order.forEach(function (id) {
      var n = nodes[id];
      if (!n.kids.length) { return; }
      n.g.setAttribute("tabindex", "0");
      n.g.setAttribute("role", "button");
      n.g.setAttribute("aria-expanded", "true");
      n.g.classList.add("mm-foldable");
    });

    function apply() {
      svg.setAttribute("viewBox", view.x + " " + view.y + " " + view.w + " " + view.h);
      figure.setAttribute("data-zoom", (home.w / view.w).toFixed(3));
    }

    function clampZoom(w) {
      return Math.min(home.w / MIN_ZOOM, Math.max(home.w / MAX_ZOOM, w));
    }

    // Zoom by ``factor`` keeping the picture point (px, py) where it is on screen.
    function zoomBy(factor, px, py) {
      if (px === undefined) { px = view.x + view.w / 2; py = view.y + view.h / 2; }
      var w = clampZoom(view.w / factor);
      var k = w / view.w;
      view.x = px - (px - view.x) * k;
      view.y = py - (py - view.y) * k;
      view.w = w;
      view.h = view.h * k;
      apply();
    }

    function reset() {
      view = { x: home.x, y: home.y, w: home.w, h: home.h };
      apply();
    }

    // Picture units per screen pixel (the SVG scales uniformly, preserveAspectRatio "meet").
    function unitsPerPixel() {
      var box = svg.getBoundingClientRect();
      if (!box.width || !box.height) { return 1; }
      return Math.max(view.w / box.width, view.h / box.height);
    }

    function toPicture(clientX, clientY) {
      var m = svg.getScreenCTM();
      if (!m) { return { x: view.x + view.w / 2, y: view.y + view.h / 2 }; }
      var p = svg.createSVGPoint();
      p.x = clientX;
      p.y = clientY;
      return p.matrixTransform(m.inverse());
    }

    function panBy(dx, dy) {  // in picture units
      view.x += dx;
      view.y += dy;
      apply();
    }

    // Folding: a topic's descendants are hidden while it, or a topic between, is folded.
    function setHidden(id, hidden) {
      var n = nodes[id];
      n.g.classList.toggle("mm-hidden", hidden);
      if (n.edge) { n.edge.classList.toggle("mm-hidden", hidden); }
    }

    function refresh(id) {
      var stack = [];
      var top = nodes[id];
      top.kids.forEach(function (k) { stack.push([k, top.collapsed]); });
      while (stack.length) {
        var item = stack.pop();
        var n = nodes[item[0]];
        setHidden(item[0], item[1]);
        var below = item[1] || n.collapsed;
        for (var i = 0; i < n.kids.length; i++) { stack.push([n.kids[i], below]); }
      }
    }

    function mark(id) {
      var n = nodes[id];
      n.g.classList.toggle("mm-collapsed", n.collapsed);
      n.g.setAttribute("aria-expanded", n.collapsed ? "false" : "true");
      if (n.collapsed && !n.badge) {
        var rect = n.g.querySelector(":scope > rect");
        var w = rect ? +rect.getAttribute("width") : 0;
        var h = rect ? +rect.getAttribute("height") : 0;
        var side = n.g.classList.contains("mm-side-left") ? 0 : w;
        var badge = document.createElementNS(SVG_NS, "g");
        badge.setAttribute("class", "mm-badge");
        badge.setAttribute("aria-hidden", "true");
        badge.setAttribute("transform", "translate(" + side + " " + h / 2 + ")");
        var circle = document.createElementNS(SVG_NS, "circle");
        circle.setAttribute("r", "9");
        var label = document.createElementNS(SVG_NS, "text");
        label.setAttribute("y", "4");
        label.setAttribute("font-size", "11");
        label.textContent = n.kids.length > 99 ? "99+" : String(n.kids.length);
        badge.appendChild(circle);
        badge.appendChild(label);
        n.g.appendChild(badge);
        n.badge = badge;
      } else if (!n.collapsed && n.badge) {
        n.badge.remove();
        n.badge = null;
      }
    }

    function toggle(id) {
      var n = nodes[id];
      if (!n || !n.kids.length) { return; }
      n.collapsed = !n.collapsed;
      mark(id);
      refresh(id);
    }

    function foldAll(fold) {
      order.forEach(function (id) {
        var n = nodes[id];
        if (n.kids.length && n.depth >= 1 && n.collapsed !== fold) {
          n.collapsed = fold;
          mark(id);
        }
      });
      order.forEach(function (id) { if (nodes[id].depth === 0) { refresh(id); } });
    }

    function nodeOf(target) {
      var g = target && target.closest ? target.closest("g.mm-node") : null;
      return g && svg.contains(g) ? g.getAttribute("data-id") : null;
    }

    // Pointers: one drags, two pinch. A press that does not move is a click.
    var pointers = {};
    var dragged = false;
    var pinch = null;

    frame.addEventListener("pointerdown", function (e) {
      if (e.button !== undefined && e.button > 0) { return; }
      pointers[e.pointerId] = { x: e.clientX, y: e.clientY, x0: e.clientX, y0: e.clientY };
      dragged = false;
      var ids = Object.keys(pointers);
      if (ids.length === 2) {
        var a = pointers[ids[0]], b = pointers[ids[1]];
        pinch = { d: Math.hypot(a.x - b.x, a.y - b.y) || 1 };
      }
    });

    frame.addEventListener("pointermove", function (e) {
      var p = pointers[e.pointerId];
      if (!p) { return; }
      var ids = Object.keys(pointers);
      if (ids.length === 2 && pinch) {
        p.x = e.clientX;
        p.y = e.clientY;
        var a = pointers[ids[0]], b = pointers[ids[1]];
        var d = Math.hypot(a.x - b.x, a.y - b.y) || 1;
        var mid = toPicture((a.x + b.x) / 2, (a.y + b.y) / 2);
        zoomBy(d / pinch.d, mid.x, mid.y);
        pinch.d = d;
        dragged = true;
        return;
      }
      if (!dragged && Math.hypot(e.clientX - p.x0, e.clientY - p.y0) < DRAG_SLOP) { return; }
      if (!dragged) {
        dragged = true;
        if (frame.setPointerCapture) {
          try { frame.setPointerCapture(e.pointerId); } catch (err) { /* already released */ }
        }
        frame.classList.add("mapview-dragging");
      }
      var k = unitsPerPixel();
      panBy(-(e.clientX - p.x) * k, -(e.clientY - p.y) * k);
      p.x = e.clientX;
      p.y = e.clientY;
    });

    function release(e) {
      delete pointers[e.pointerId];
      if (Object.keys(pointers).length < 2) { pinch = null; }
      frame.classList.remove("mapview-dragging");
    }
    frame.addEventListener("pointerup", release);
    frame.addEventListener("pointercancel", release);

    frame.addEventListener("click", function (e) {
      if (dragged) { dragged = false; return; }
      var id = nodeOf(e.target);
      if (id !== null) { toggle(id); }
    });

    frame.addEventListener("wheel", function (e) {
      e.preventDefault();
      var unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
      var at = toPicture(e.clientX, e.clientY);
      zoomBy(Math.exp(-e.deltaY * unit * 0.0015), at.x, at.y);
    }, { passive: false });

    frame.addEventListener("keydown", function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey) { return; }
      var id = nodeOf(e.target);
      var handled = true;
      switch (e.key) {
        case "ArrowLeft": panBy(-view.w * PAN, 0); break;
        case "ArrowRight": panBy(view.w * PAN, 0); break;
        case "ArrowUp": panBy(0, -view.h * PAN); break;
        case "ArrowDown": panBy(0, view.h * PAN); break;
        case "+": case "=": zoomBy(STEP); break;
        case "-": case "_": zoomBy(1 / STEP); break;
        case "0": reset(); break;
        case "Enter": case " ":
          if (id !== null) { toggle(id); } else { handled = false; }
          break;
        default: handled = false;
      }
      if (handled) { e.preventDefault(); }
    });

    // Where a node's box is in picture units: its own and its sheet's translations.
    function boxOf(g) {
      var box = g.getBBox();
      var x = box.x, y = box.y;
      for (var el = g; el && el !== svg; el = el.parentNode) {
        var list = el.transform && el.transform.baseVal;
        if (list && list.numberOfItems) {
          var m = list.consolidate().matrix;
          var nx = m.a * x + m.c * y + m.e;
          y = m.b * x + m.d * y + m.f;
          x = nx;
        }
      }
      return { x: x, y: y, w: box.width, h: box.height };
    }

    // A topic reached with Tab is brought into view.
    frame.addEventListener("focusin", function (e) {
      var id = nodeOf(e.target);
      if (id === null) { return; }
      var b = boxOf(nodes[id].g);
      if (b.x < view.x || b.y < view.y || b.x + b.w > view.x + view.w ||
          b.y + b.h > view.y + view.h) {
        view.x = b.x + b.w / 2 - view.w / 2;
        view.y = b.y + b.h / 2 - view.h / 2;
        apply();
      }
    });

    apply();
  }

  function start() {
    document.querySelectorAll("[data-mapview]").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
