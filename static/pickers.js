// Offer form enhancements; everything works without this file.
//  - A picker ([data-picker]: a fieldset of checkboxes sharing one name) gets a search box
//    that filters the list as you type, and a row of chips for the ticked choices (× unticks).
//  - An advanced-settings section ([data-section]) shows "In use" while a field of it holds
//    a value, so a closed section does not hide a limit.
// Loaded with `defer` (CSP: script-src 'self'; no inline handlers).
(function () {
  "use strict";

  function words(s) {
    return s.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function enhancePicker(box) {
    if (box.dataset.enhanced) return;
    var list = box.querySelector(".picker-list");
    var search = box.querySelector("[data-search]");
    var chips = box.querySelector("[data-chips]");
    if (!list || !search || !chips) return;
    box.dataset.enhanced = "1";
    var count = box.querySelector("[data-count]");
    var nomatch = box.querySelector("[data-nomatch]");
    var items = Array.prototype.map.call(list.querySelectorAll("label"), function (label) {
      return { label: label, input: label.querySelector("input[type=checkbox]"), text: label.textContent.toLowerCase() };
    });
    // Chips keep the order in which things were ticked (the page's order at first).
    var order = items.filter(function (i) { return i.input.checked; });

    function renderChips() {
      order = order.filter(function (i) { return i.input.checked; });
      items.forEach(function (i) {
        if (i.input.checked && order.indexOf(i) < 0) order.push(i);
      });
      chips.textContent = "";
      order.forEach(function (i) {
        var name = i.input.dataset.label || i.label.textContent.trim();
        var chip = document.createElement("span");
        chip.className = "chip";
        chip.appendChild(document.createTextNode(name));
        var x = document.createElement("button");
        x.type = "button";
        x.className = "chip-remove";
        x.setAttribute("aria-label", "Remove " + name);
        x.textContent = "×";
        x.addEventListener("click", function () {
          var at = order.indexOf(i);
          i.input.checked = false;
          i.input.dispatchEvent(new Event("change", { bubbles: true }));
          var next = chips.querySelectorAll(".chip-remove")[at] || chips.querySelectorAll(".chip-remove")[at - 1];
          (next || search).focus();
        });
        chip.appendChild(x);
        chips.appendChild(chip);
      });
      chips.hidden = order.length === 0;
      if (count) count.textContent = order.length ? order.length + " chosen" : "";
    }

    function filter() {
      var want = words(search.value);
      var shown = 0;
      items.forEach(function (i) {
        var hit = want.every(function (w) { return i.text.indexOf(w) >= 0; });
        i.label.hidden = !hit;
        if (hit) shown++;
      });
      if (nomatch) nomatch.hidden = shown > 0;
      return shown;
    }

    search.hidden = false;
    search.addEventListener("input", filter);
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        // Enter ticks the only match instead of submitting the form.
        e.preventDefault();
        var visible = items.filter(function (i) { return !i.label.hidden; });
        if (visible.length === 1 && !visible[0].input.checked) {
          visible[0].input.checked = true;
          visible[0].input.dispatchEvent(new Event("change", { bubbles: true }));
        }
      } else if (e.key === "Escape" && search.value) {
        e.preventDefault();
        search.value = "";
        filter();
      }
    });
    list.addEventListener("change", renderChips);
    renderChips();
  }

  // Whether a section's fields hold anything (mirrors OfferForm::section_in_use).
  function inUse(section) {
    var fields = section.querySelectorAll(".adv-body input, .adv-body textarea");
    return Array.prototype.some.call(fields, function (el) {
      if (el.matches("[data-search]")) return false;
      if (el.type === "checkbox") return el.checked;
      if (el.type === "radio") return el.checked && !el.hasAttribute("data-default");
      return el.value.trim() !== "";
    });
  }

  function enhanceSection(section) {
    if (section.dataset.enhanced) return;
    section.dataset.enhanced = "1";
    var state = section.querySelector("[data-state]");
    if (!state) return;
    var update = function () { state.hidden = !inUse(section); };
    section.addEventListener("input", update);
    section.addEventListener("change", update);
  }

  function init(root) {
    root.querySelectorAll("[data-picker]").forEach(enhancePicker);
    root.querySelectorAll("[data-section]").forEach(enhanceSection);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  // Content swapped in by htmx.
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
