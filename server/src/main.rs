//! `scimitar`: run the console, or administer it from the command line.

use std::process::ExitCode;

use clap::Parser;
use server::config::{AdminCommand, Cli, Command, DirectoryCommand, LogsCommand, TokenCommand};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    server::telemetry::init(cli.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => server::run(&cli.storage, cli.serve)
            .await
            .map_err(|e| e.to_string()),
        Command::Admin(AdminCommand::Create {
            upn,
            role,
            display_name,
            password_stdin: _,
        }) => server::admin::create(
            &cli.storage,
            upn,
            role,
            display_name,
            std::io::stdin().lock(),
        )
        .await
        .map(|message| println!("{message}")),
        Command::Token(TokenCommand::Create { upn, scopes, name }) => {
            server::admin::create_token(&cli.storage, &upn, &scopes, &name)
                .await
                .map(|token| println!("{token}"))
        }
        Command::Directory(DirectoryCommand::Generate {
            users,
            groups,
            seed,
            missing,
            domain,
        }) => {
            let spec = engine::directory::generator::Spec {
                users,
                groups,
                seed,
                missing,
            };
            server::admin::generate_directory(&cli.storage, spec, &domain)
                .await
                .map(|summary| println!("{summary}"))
        }
        Command::Logs(LogsCommand::Generate {
            entries,
            days,
            seed,
        }) => {
            let spec = engine::sync::log::generator::Spec {
                entries,
                days,
                seed,
            };
            server::admin::generate_logs(&cli.storage, spec)
                .await
                .map(|summary| println!("{summary}"))
        }
        Command::Backup { to } => server::admin::backup(&cli.storage, &to)
            .await
            .map(|summary| println!("{summary}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
