"""The account as a whole: its export (all of its data in one ZIP) and its deletion."""
