"""nbgrader settings of every server of the hub (written to $DLKIT_HUB_STATE/jupyter/ by
`python -m assignments hub-setup`, given to the servers as JUPYTER_CONFIG_PATH): the course and
the exchange every account shares."""
c = get_config()  # noqa: F821 (provided by traitlets)

c.CourseDirectory.course_id = "dl-course-kit"
c.Exchange.root = "/srv/dlkit-hub/exchange"
