from trainer.cli.main import main

main()
