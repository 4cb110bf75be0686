def configure(settings):
    pass
