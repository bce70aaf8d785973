// Apply the remembered theme before the first paint (no flash). A separate
// file rather than an inline script so a strict Content-Security-Policy holds.
// html[data-theme] always holds the theme in effect: the user's choice, else
// the system's, so the stylesheet defines the dark palette once.
var t = null;
try {
  t = localStorage.getItem('backupd-theme');
} catch (e) {}
if (t !== 'light' && t !== 'dark') {
  t = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
document.documentElement.dataset.theme = t;
