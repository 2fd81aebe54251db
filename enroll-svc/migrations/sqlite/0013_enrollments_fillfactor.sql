-- PostgreSQL leaves room on the pages of enrollments for updates in place (fillfactor); SQLite
-- has no such setting. The migration exists on both engines so that their histories match.
SELECT 1;
