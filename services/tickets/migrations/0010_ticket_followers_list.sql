-- A ticket's followers as shown on it (ticket_followers, from 0009, answers "followed by").
ALTER TABLE tickets ADD COLUMN followers TEXT NOT NULL DEFAULT '[]';
