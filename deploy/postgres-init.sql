-- One database per service (DESIGN.md §2: no service reads another's tables).
CREATE DATABASE enroll;
CREATE DATABASE command;
CREATE DATABASE push;
