"""One blueprint per area of the site; each module defines ``bp``."""
