from deploy.local.cli import app

app()
