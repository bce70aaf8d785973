-- The terminal log of each operation: the executor's lines (OperationLogged
-- batches) and one line per state change of the operation ("Backup
-- requested by …", "Paused: …", "Worker w1 stopped: …"), in one sequence.
--
-- seq is assigned here, 1, 2, 3, … per operation, in the order the events
-- stand in $all (a replay assigns the same numbers). One sequence for both
-- kinds of line is what lets a client poll "lines after seq N" and never
-- miss a line, whichever kind comes next. executor_seq keeps the executor's
-- own line number.
CREATE TABLE operation_logs (
    operation_id uuid NOT NULL,
    seq          bigint NOT NULL,
    at           timestamptz NOT NULL,
    level        text NOT NULL,  -- debug | info | warn | error
    message      text NOT NULL,
    origin       text NOT NULL,  -- executor | status
    executor_seq bigint,         -- origin executor: the line's number in the executor's log
    PRIMARY KEY (operation_id, seq)
);
