-- Room on each page of enrollments for the row's next version. An inventory report (every
-- acknowledged DeviceInformation or SecurityInfo) rewrites the row, usually changing no indexed
-- column: with room on the page PostgreSQL writes the new version beside the old one and touches
-- none of the table's thirteen indexes (a HOT update); on a full page it writes an entry in each.
-- Applies to pages written from now on.
ALTER TABLE enrollments SET (fillfactor = 70);
