// The text filter: a card stays when every word typed occurs in its title, source, countries or years.
(function () {
  "use strict";
  var input = document.getElementById("filter");
  var count = document.getElementById("filter-count");
  var cards = Array.prototype.slice.call(document.querySelectorAll("figure[data-search]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-group]"));
  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var text = card.getAttribute("data-search");
      var keep = words.every(function (w) { return text.indexOf(w) !== -1; });
      card.hidden = !keep;
      if (keep) { shown += 1; }
    });
    // a heading with no card left under it is hidden too
    groups.forEach(function (group) {
      group.hidden = group.querySelector("figure[data-search]:not([hidden])") === null;
    });
    count.textContent = words.length ? shown + " of " + cards.length + " charts shown" : cards.length + " charts";
  }
  input.addEventListener("input", apply);
  apply();
}());
