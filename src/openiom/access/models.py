# The access policy keeps no tables of its own: it reads memberships, involvements and restrictions.
