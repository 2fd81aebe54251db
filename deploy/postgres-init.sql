-- One database per service (docs/architecture.md §2: no service reads another's tables).
CREATE DATABASE enroll;
CREATE DATABASE command;
CREATE DATABASE push;
CREATE DATABASE admin;
