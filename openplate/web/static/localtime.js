// Shows every <time data-local datetime="...Z"> in the visitor's own time zone, and says so in
// the page's note. Without JavaScript the times stay in UTC and the note says that.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
  });
  var times = document.querySelectorAll("time[data-local][datetime]");
  for (var i = 0; i < times.length; i++) {
    var at = new Date(times[i].getAttribute("datetime"));
    if (!isNaN(at.getTime())) {
      times[i].title = times[i].textContent;
      times[i].textContent = format.format(at);
    }
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var notes = document.querySelectorAll("[data-times-note]");
  for (var j = 0; j < notes.length; j++) {
    notes[j].textContent = "Times are in your local time" + (zone ? " (" + zone + ")." : ".");
  }
})();
