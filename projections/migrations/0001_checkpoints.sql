-- Where each projector stopped in $all: the position of the last event it
-- has taken into account. A projector writes it in the same transaction as
-- the rows the event changed, so an event is applied exactly once. NULL
-- positions mean "nothing yet: start at the beginning of $all".
CREATE TABLE projection_checkpoints (
    name             text PRIMARY KEY,
    commit_position  bigint,
    prepare_position bigint,
    CHECK ((commit_position IS NULL) = (prepare_position IS NULL))
);
