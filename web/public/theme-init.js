// Apply the remembered theme before the first paint (no flash). A separate
// file rather than an inline script so a strict Content-Security-Policy holds.
try {
  var t = localStorage.getItem('backupd-theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
} catch (e) {}
