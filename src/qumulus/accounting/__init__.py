"""Pure pricing and contract policy: no database, no HTTP; tested on their own."""
