-- One database per service (the customers database is POSTGRES_DB).
CREATE DATABASE knowledge;
CREATE DATABASE tickets;
CREATE DATABASE feedback;
CREATE DATABASE automation;
CREATE DATABASE gateway;
