-- A fan-out's items read back in the order they started (its succeeded()
-- outputs, a page at a time), through the index instead of a sort.
DROP INDEX steps_by_parent;
CREATE INDEX steps_by_parent ON steps(run_id, parent_id, seq);
