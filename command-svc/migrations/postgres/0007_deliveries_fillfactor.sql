-- Room on each page of deliveries for the row's next version. The cycle notes a command sent
-- (sent_at, in no index): with room on the page PostgreSQL writes that version beside the old
-- one and touches no index (a HOT update); on a full page it writes an entry in each of the
-- table's five indexes. Applies to pages written from now on.
ALTER TABLE deliveries SET (fillfactor = 80);
