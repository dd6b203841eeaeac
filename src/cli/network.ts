/** `demotool network report LOG...` and `demotool network ca`: the guest network services' tools. */
import type { Command } from 'commander';
import { LocalCa, formatRequestReport, summarizeRequestLog } from '../network/index.js';

export function registerNetwork(program: Command): void {
  const network = program.command('network').description("the guests' network services: archives, mirrors, mocks, their request logs and the local CA");
  network
    .command('report <log...>')
    .description('summarize request logs: counts per outcome and host, the URLs still missing from the archives, the names refused')
    .option('--json', 'print the summary as JSON')
    .action(async (logs: string[], opts: { json?: boolean }) => {
      const report = await summarizeRequestLog(...logs);
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatRequestReport(report));
    });
  network
    .command('ca')
    .description("print the path of this host's local CA certificate (made on first use) and how to install it in a guest")
    .action(async () => {
      const ca = await LocalCa.load();
      console.log(ca.certPath);
      console.error(INSTALL.replaceAll('CA', ca.certPath));
    });
}

const INSTALL = `
Install it in the guest's trust store (see "Network services" in docs/operators.md):
  Windows XP   copy the file in as ca.crt, double-click it, Install Certificate, "Place all certificates
               in the following store": Trusted Root Certification Authorities (or MMC, Certificates snap-in)
  Java         keytool -importcert -cacerts -alias demotool -file CA   (Java 8 and older: -keystore $JAVA_HOME/jre/lib/security/cacerts)
  NSS          certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n demotool -i CA
  Debian       cp CA /usr/local/share/ca-certificates/demotool.crt && update-ca-certificates
  wget         wget --ca-certificate=CA https://...`;
