package projections

// ApplyOnce exposes the live path's transaction (check checkpoint, apply,
// store checkpoint) to the tests.
var ApplyOnce = applyOnce
