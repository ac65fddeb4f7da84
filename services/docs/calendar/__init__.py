"""Working days: weekends, public holidays and make-up days, for deadlines."""
