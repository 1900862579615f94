"""What the program checks itself: citations against their lines (cite), and lines that address an assistant (guard)."""
