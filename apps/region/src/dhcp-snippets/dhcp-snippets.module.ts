import { Module } from '@nestjs/common';
import { NetworkingModule } from '../networking/networking.module';
import { DhcpSnippetsApi } from './dhcp-snippets.api';
import { DhcpSnippetsRepository } from './dhcp-snippets.repository';
import { DhcpSnippetsService } from './dhcp-snippets.service';

/** DHCP snippets: those Kiln's DHCP server can send, pushed to the racks with the rest of the DHCP configuration. */
@Module({ imports: [NetworkingModule], providers: [DhcpSnippetsRepository, DhcpSnippetsService, DhcpSnippetsApi] })
export class DhcpSnippetsModule {}
